#!/usr/bin/env bash
# install-deps.sh — install, from Debian's packages, only what omnisync needs
# to build, test and run and is not installed yet.  Idempotent.
#
# Usage: deploy/install-deps.sh [--fetch-kafka | --no-fetch-kafka] [--check]
#   --fetch-kafka     also pre-fetch the Apache Kafka 3.9.1 jars into the cache
#                     (default when CI=true), so tests never download at run time
#   --no-fetch-kafka  never fetch the jars
#   --check           only report what is missing (exit 1 if anything is)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FETCH_KAFKA=
[ "${CI:-}" = true ] && FETCH_KAFKA=1
CHECK_ONLY=
for a in "$@"; do
    case "$a" in
    --fetch-kafka) FETCH_KAFKA=1 ;;
    --no-fetch-kafka) FETCH_KAFKA= ;;
    --check) CHECK_ONLY=1 ;;
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "install-deps: unknown option: $a" >&2
        exit 2
        ;;
    esac
done

PKGS=(
    # build
    gcc make pkg-config librdkafka-dev libcurl4-openssl-dev libhiredis-dev
    libpq-dev libjansson-dev libmicrohttpd-dev libsodium-dev
    # servers the tests and the local stack start
    postgresql redis-server
    # checks: format, static analysis, architecture, leaks
    clang-format cppcheck pmccabe valgrind
    # fuzzing: clang and its libFuzzer/sanitizer runtimes (tests/fuzz/, make fuzz)
    clang libclang-rt-14-dev
    # test tools
    kcat python3-jsonschema python3-yaml curl procps docker-compose jq bc file iproute2
    prometheus
    # the image test (tests/deploy/)
    podman buildah mmdebstrap runc
)

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# java_major prints the major version of `java` on PATH (empty when none).
java_major() {
    command -v java >/dev/null 2>&1 || return 0
    java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)[."].*/\1/p' | head -1
}

missing=()
for p in "${PKGS[@]}"; do
    installed "$p" || missing+=("$p")
done
jm=$(java_major)
if [ -z "$jm" ] || [ "$jm" -lt 17 ]; then
    installed default-jre-headless || missing+=(default-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || installed maven || missing+=(maven)

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all present"
elif [ -n "$CHECK_ONLY" ]; then
    echo "deps: missing ${missing[*]}"
    exit 1
elif [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${missing[*]}" >&2
    echo "deps: not root: run 'sudo $0' or 'apt-get install ${missing[*]}'" >&2
    exit 1
else
    echo "deps: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    still=()
    for p in "${missing[@]}"; do
        installed "$p" || still+=("$p")
    done
    if [ ${#still[@]} -ne 0 ]; then
        echo "deps: failed to install ${still[*]}" >&2
        exit 1
    fi
    echo "deps: installed ${missing[*]}"
fi

if [ -n "$FETCH_KAFKA" ] && [ -z "$CHECK_ONLY" ]; then
    # shellcheck source=../tests/harness/kafka.sh
    . "$ROOT/tests/harness/lib.sh"
    harness_kafka_fetch
fi
