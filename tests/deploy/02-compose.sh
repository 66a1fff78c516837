#!/usr/bin/env bash
# docker-compose.yml holds up (checked with Debian's docker-compose: no
# Docker engine needed): `docker-compose config` passes with a secret key
# and refuses, with the documented message, without one (deploy/.env.example
# ships none); the parts are there (Apache Kafka KRaft, Postgres, Redis, the
# one-shot jobs `topics` = `omnisync topics create` and `migrate` = `omnisync
# db migrate` that every service waits for, a healthcheck running each
# service's own --probe, the intake on all interfaces with a published port
# and OMNISYNC_PUBLIC_URL, the cli and demo profiles); least privilege:
# the jobs `roles` (omnisync db roles) and `db-users` run after migrate,
# every service and the cli profile connect as their own login user with
# the password from the env file (PGPASSWORD, never in OMNISYNC_PG or in
# the file), and deploy/compose-db-users.sh makes those users on a real
# Postgres; and every service, profile, volume and `omnisync` command
# that docs/deploy.md names exists.
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
cd "$OMNISYNC_ROOT" || t_bail "no repository at $OMNISYNC_ROOT"

if ! command -v docker-compose >/dev/null 2>&1; then
    t_skip "docker-compose.yml validates" "docker-compose is not installed (deploy/install-deps.sh)"
    t_done
fi

KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
GROUPS_PG="OUTBOX_RELAY CATALOG_PUBLISHER STOCK_PUBLISHER IMAGE_UPLOADER ORDER_INGESTOR LEDGER_API OPERATOR"
pw_of() { printf 'pw-%s-%s' "$1" "${KEY:0:8}"; } # GROUP: its test password
pw_lines() { for g in $GROUPS_PG; do printf 'OMNISYNC_PG_PASSWORD_%s=%s\n' "$g" "$(pw_of "$g")"; done; }
{
    printf 'OMNISYNC_SECRET_KEY=%s\nOMNISYNC_PUBLIC_URL=https://omnisync.example.com\n' "$KEY"
    pw_lines
} >"$T_TMP/env"
# dc ENVFILE ARGS...: docker-compose with only ENVFILE's settings (not the
# harness's OMNISYNC_* variables, not a developer's .env).
dc() {
    local envfile=$1
    shift
    env -u OMNISYNC_SECRET_KEY -u OMNISYNC_PUBLIC_URL -u OMNISYNC_INTAKE_PORTS \
        docker-compose -f docker-compose.yml --env-file "$envfile" "$@"
}

# ---- the secret key
t_ok "docker-compose config passes with a key set" dc "$T_TMP/env" config -q
out=$(dc deploy/.env.example config -q 2>&1)
t_isnt "without a key (deploy/.env.example as it ships) it refuses" "$?" 0
t_like "naming the variable and docs/deploy.md" "$out" \
    'set OMNISYNC_SECRET_KEY: 64 hex chars, see docs/deploy\.md'
t_ok "deploy/.env.example names the secret key" \
    grep -q '^OMNISYNC_SECRET_KEY=$' deploy/.env.example
t_nok "and ships no usable value for it" \
    grep -qE '^OMNISYNC_SECRET_KEY=.+' deploy/.env.example
t_ok "nor anywhere a 64-hex key" grep -qvE '[0-9a-fA-F]{64}' deploy/.env.example
for g in $GROUPS_PG; do
    t_ok "deploy/.env.example has OMNISYNC_PG_PASSWORD_$g (a placeholder)" \
        grep -q "^OMNISYNC_PG_PASSWORD_$g=change-me" deploy/.env.example
done
grep -v "^OMNISYNC_PG_PASSWORD_OPERATOR=" "$T_TMP/env" >"$T_TMP/env-nopw"
out=$(dc "$T_TMP/env-nopw" config -q 2>&1)
t_isnt "without a service's database password it refuses" "$?" 0
t_like "naming the variable" "$out" 'set OMNISYNC_PG_PASSWORD_OPERATOR, see docs/deploy\.md'
t_unlike "no database password in clear in docker-compose.yml" \
    "$(grep -nE 'PGPASSWORD|PASSWORD_' docker-compose.yml | grep -vE '\$\{(POSTGRES_PASSWORD:-omnisync|OMNISYNC_PG_PASSWORD_[A-Z_]+:\?)[^}]*\}|\*pw-')" 'PASSWORD'

dc "$T_TMP/env" --profile demo --profile cli config >"$T_TMP/config.yml" 2>"$T_TMP/config.err" ||
    t_bail "docker-compose config failed: $(cat "$T_TMP/config.err")"
t_unlike "the key appears only where it is set" \
    "$(grep -v 'OMNISYNC_SECRET_KEY:' "$T_TMP/config.yml")" "$KEY"
t_unlike "no database password inside a service's DSN" \
    "$(grep 'OMNISYNC_PG:' "$T_TMP/config.yml" | grep -v 'user=omnisync password=')" "password="

# ---- the structure, read by python3 (PyYAML: a dependency of docker-compose)
python3 - "$T_TMP/config.yml" >"$T_TMP/facts" <<'PY' || t_bail "cannot read the config"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
sv = c["services"]
print("services", " ".join(sorted(sv)))
print("volumes", " ".join(sorted(c.get("volumes") or {})))
for name, s in sorted(sv.items()):
    cmd = s.get("command") or []
    print("command", name, " ".join(cmd) if isinstance(cmd, list) else cmd)
    print("image", name, s.get("image", ""), (s.get("build") or {}).get("target", ""))
    print("profiles", name, " ".join(s.get("profiles") or []) or "-")
    hc = (s.get("healthcheck") or {}).get("test") or []
    print("health", name, " ".join(hc) if isinstance(hc, list) else hc)
    for dep, d in sorted((s.get("depends_on") or {}).items()):
        print("dep", name, dep, d.get("condition", "") if isinstance(d, dict) else "")
    for k, v in sorted((s.get("environment") or {}).items()):
        if k != "OMNISYNC_SECRET_KEY" and k.startswith("OMNISYNC_"):
            print("env", name, k, v)
        if k == "PGPASSWORD":
            print("pgpw", name, v)
    for p in s.get("ports") or []:
        print("port", name, p.get("published") if isinstance(p, dict) else p,
              p.get("target") if isinstance(p, dict) else "")
    print("replicas", name, (s.get("deploy") or {}).get("replicas", "-"))
PY
fact() { grep -E "^$1( |$)" "$T_TMP/facts" | cut -d' ' -f2-; }
services=" $(fact services) "
SVCS=(outbox-relay catalog-publisher stock-publisher image-uploader order-ingestor order-intake ledger-api)
for s in kafka postgres redis topics migrate roles db-users "${SVCS[@]}" cli store-sim demo-setup; do
    t_like "service $s is defined" "$services" " $s "
done
cfg=$(cat "$T_TMP/config.yml")
t_like "Kafka is Apache Kafka 3.9.1 (KRaft)" "$cfg" 'image: apache/kafka:3\.9\.1'
t_like "the broker runs as broker and controller" "$cfg" 'KAFKA_PROCESS_ROLES: broker,controller'
t_like "Postgres 15" "$cfg" 'image: postgres:15'
t_like "Redis 7" "$cfg" 'image: redis:7'
t_is "topics: omnisync topics create from the image" "$(fact 'command topics')" \
    "topics omnisync topics create --partitions 6"
t_is "migrate: omnisync db migrate from the image" "$(fact 'command migrate')" \
    "migrate omnisync db migrate"
t_is "roles: omnisync db roles after migrate" "$(fact 'command roles')|$(fact 'dep roles')" \
    "roles omnisync db roles|roles migrate service_completed_successfully"
t_is "db-users: the script in the postgres image, after roles" \
    "$(fact 'command db-users')|$(fact 'image db-users')|$(fact 'dep db-users')" \
    "db-users sh /opt/omnisync/compose-db-users.sh|db-users postgres:15 |db-users roles service_completed_successfully"
for j in migrate roles; do
    t_like "$j runs as the tables' owner" "$(fact "env $j OMNISYNC_PG")" "user=omnisync password="
done
for g in $GROUPS_PG; do
    t_is "db-users gets OMNISYNC_PG_PASSWORD_$g from the env file" \
        "$(fact "env db-users OMNISYNC_PG_PASSWORD_$g")" "db-users OMNISYNC_PG_PASSWORD_$g $(pw_of "$g")"
done
# least privilege: SERVICE GROUP
while read -r s g; do
    G=$(printf '%s' "$g" | tr a-z A-Z)
    t_is "$s connects as omnisync_${g}_login, no password in the DSN" \
        "$(fact "env $s OMNISYNC_PG")" \
        "$s OMNISYNC_PG host=postgres port=5432 user=omnisync_${g}_login dbname=omnisync"
    t_is "$s: its password from the env file (PGPASSWORD)" \
        "$(fact "pgpw $s")" "$s $(pw_of "$G")"
done <<'MAP'
outbox-relay outbox_relay
catalog-publisher catalog_publisher
stock-publisher stock_publisher
image-uploader image_uploader
order-ingestor order_ingestor
order-intake order_ingestor
ledger-api ledger_api
cli operator
demo-setup operator
MAP
t_unlike "no test tool (devkafka) in the deployment" "$cfg" 'devkafka'
for s in topics migrate "${SVCS[@]}" cli demo-setup; do
    t_is "$s runs the omnisync image (deploy/Dockerfile, target omnisync)" \
        "$(fact "image $s")" "$s omnisync:latest omnisync"
done
t_is "store-sim runs its own target" "$(fact 'image store-sim')" \
    "store-sim omnisync-store-sim:latest store-sim"
for s in "${SVCS[@]}"; do
    bin=$s
    [ "$s" = order-intake ] && bin=order-ingestor
    t_is "$s: healthcheck runs its own --probe" "$(fact "health $s")" \
        "$s CMD /opt/omnisync/bin/$bin --probe"
    t_is "$s waits for topics, migrate and db-users to complete" \
        "$(fact "dep $s" | grep -E ' (topics|migrate|db-users) ' | sort | tr '\n' ';')" \
        "$s db-users service_completed_successfully;$s migrate service_completed_successfully;$s topics service_completed_successfully;"
    t_like "$s: /healthz on all interfaces of its container" \
        "$(fact "env $s OMNISYNC_HTTP_LISTEN")" "^$s OMNISYNC_HTTP_LISTEN 0\.0\.0\.0:94"
    t_like "$s: not in a profile (up starts it)" "$(fact "profiles $s")" "^$s -$"
done
t_is "topics waits for a healthy Kafka" "$(fact 'dep topics')" "topics kafka service_healthy"
t_is "migrate waits for a healthy Postgres" "$(fact 'dep migrate')" "migrate postgres service_healthy"
t_is "ledger-api's API port is published" "$(fact 'port ledger-api')" "ledger-api 8090 8090"
t_is "the intake listens on all interfaces" "$(fact 'env order-intake OMNISYNC_INTAKE_LISTEN')" \
    "order-intake OMNISYNC_INTAKE_LISTEN 0.0.0.0:8081"
t_is "the intake's public URL is OMNISYNC_PUBLIC_URL" \
    "$(fact 'env order-intake OMNISYNC_INTAKE_PUBLIC_URL')" \
    "order-intake OMNISYNC_INTAKE_PUBLIC_URL https://omnisync.example.com"
t_is "the intake's port is published" "$(fact 'port order-intake')" "order-intake 8081 8081"
t_is "order-intake is the intake half" "$(fact 'env order-intake OMNISYNC_ORDERS_MODE')" \
    "order-intake OMNISYNC_ORDERS_MODE intake"
t_is "order-ingestor is the apply half, no port" \
    "$(fact 'env order-ingestor OMNISYNC_ORDERS_MODE'; fact 'port order-ingestor')" \
    "order-ingestor OMNISYNC_ORDERS_MODE apply"
t_is "image-uploader states its replicas" "$(fact 'replicas image-uploader')" "image-uploader 1"
t_is "order-ingestor states its replicas" "$(fact 'replicas order-ingestor')" "order-ingestor 1"
t_is "cli is in the cli profile" "$(fact 'profiles cli')" "cli cli"
t_is "store-sim is in the demo profile" "$(fact 'profiles store-sim')" "store-sim demo"
t_is "demo-setup is in the demo profile" "$(fact 'profiles demo-setup')" "demo-setup demo"
t_like "store-sim accepts the intake as a webhook host" "$(fact 'command store-sim')" \
    '--bind 0\.0\.0\.0 .*--allow-host order-intake'
t_ok "the Dockerfile is multi-stage on Debian 12" \
    grep -qE '^FROM debian:12 AS build' deploy/Dockerfile
t_ok "and has the targets compose builds" \
    sh -c "grep -q '^FROM .* AS omnisync\$' deploy/Dockerfile && grep -q '^FROM .* AS store-sim\$' deploy/Dockerfile"
t_ok "the image ships the migrations" grep -q 'deploy/sql' deploy/Dockerfile
t_ok "the demo's script exists" test -f deploy/compose-demo.sh
t_ok "and is POSIX sh" sh -n deploy/compose-demo.sh
PORTS=$({ printf 'OMNISYNC_SECRET_KEY=%s\nOMNISYNC_INTAKE_PORTS=8081-8083\n' "$KEY"; pw_lines; } >"$T_TMP/env2" &&
    dc "$T_TMP/env2" config 2>&1 | grep -A3 'ports:' | tr -s ' \n' ' ')
t_like "OMNISYNC_INTAKE_PORTS publishes a range (intake replicas)" "$PORTS" '8081-8083'

# ---- the demo profile's demo-setup script, run here against the harness's
# ledger (what it does in its container: sh, the CLI, deploy/sample)
if [ -n "${OMNISYNC_PG:-}" ] && command -v psql >/dev/null 2>&1; then
    export PATH=$OMNISYNC_ROOT/bin:$PATH
    omnisync db migrate >/dev/null || t_bail "db migrate"
    demo() {
        SAMPLE=$OMNISYNC_ROOT/deploy/sample DEMO_STORE_URL=http://127.0.0.1:9 \
            DEMO_STORE_LOGIN=demo DEMO_STORE_PASSWORD=demo-password \
            sh deploy/compose-demo.sh
    }
    out=$(demo 2>&1)
    t_is "compose-demo.sh exits 0" "$?" 0
    t_is "it loads the small chain: 20 products, 80 variants" \
        "$(psql "$OMNISYNC_PG" -XqtA -c 'SELECT count(DISTINCT product_id) || '"' '"' || count(*) FROM variant')" "20 80"
    t_is "the store demo-shop is added" \
        "$(omnisync store list --json | python3 -c 'import json,sys; print([s["name"] for s in json.load(sys.stdin)])')" \
        "['demo-shop']"
    t_is "with the opening stock (156 receipts)" \
        "$(psql "$OMNISYNC_PG" -XqtA -c 'SELECT count(*) FROM stock_movement')" 156
    out=$(demo 2>&1)
    t_is "a second run exits 0" "$?" 0
    t_like "and changes nothing" "$out" 'has store demo-shop already: nothing to do'
    t_is "still 156 movements" "$(psql "$OMNISYNC_PG" -XqtA -c 'SELECT count(*) FROM stock_movement')" 156
    # deploy/compose-db-users.sh: login users in the groups of db roles
    # (under a prefix of this test: roles are cluster-wide).
    P="t${RANDOM}x$$_"
    users_drop() {
        local g
        for g in $GROUPS_PG VIEWER; do
            g=$(printf '%s' "$g" | tr A-Z a-z)
            psql "$OMNISYNC_PG" -XqtA -c "DROP ROLE IF EXISTS ${P}${g}_login" >/dev/null 2>&1
            psql "$OMNISYNC_PG" -XqtA -c "DROP OWNED BY ${P}$g" >/dev/null 2>&1
            psql "$OMNISYNC_PG" -XqtA -c "DROP ROLE IF EXISTS ${P}$g" >/dev/null 2>&1
        done
    }
    t_cleanup_add users_drop
    omnisync db roles --prefix "$P" >/dev/null || t_bail "db roles"
    users() {
        # shellcheck disable=SC2046 # one VAR=value word per group
        env $(pw_lines) OMNISYNC_ROLE_PREFIX="$P" \
            PGHOST=127.0.0.1 PGPORT="$HARNESS_PG_PORT" PGUSER=postgres \
            PGDATABASE="$(psql "$OMNISYNC_PG" -XqtA -c 'SELECT current_database()')" \
            sh deploy/compose-db-users.sh
    }
    out=$(users 2>&1)
    t_is "compose-db-users.sh exits 0" "$?" 0
    t_unlike "and prints no password" "$out" "pw-"
    out=$(users 2>&1)
    t_is "a second run exits 0 (idempotent)" "$?" 0
    t_is "seven login users, each a member of its group only" \
        "$(psql "$OMNISYNC_PG" -XqtA -c "SELECT count(*) FROM pg_roles u WHERE u.rolname LIKE '${P}%_login'
             AND u.rolcanlogin AND pg_has_role(u.rolname, replace(u.rolname, '_login', ''), 'member')
             AND (SELECT count(*) FROM pg_auth_members m WHERE m.member = u.oid) = 1")" 7
    t_is "each with a password" \
        "$(psql "$OMNISYNC_PG" -XqtA -c "SELECT count(*) FROM pg_authid WHERE rolname LIKE '${P}%_login' AND rolpassword IS NOT NULL")" 7
    t_like "stock-publisher's login cannot write an order" \
        "$(psql "$OMNISYNC_PG user=${P}stock_publisher_login" -XqtA -c 'DELETE FROM customer_order' 2>&1)" \
        'permission denied for table customer_order'
    out=$(OMNISYNC_PG_PASSWORD_OUTBOX_RELAY= sh deploy/compose-db-users.sh 2>&1)
    t_isnt "without a password it fails" "$?" 0
    t_like "naming the variable" "$out" 'OMNISYNC_PG_PASSWORD_OUTBOX_RELAY is not set'
else
    t_skip "compose-demo.sh against a ledger" "no harness Postgres (OMNISYNC_PG)"
fi

# ---- docs/deploy.md names only what exists
DOC=docs/deploy.md
t_ok "$DOC exists" test -s "$DOC"
for h in "First start" "Secrets" "Scaling a service" "Upgrading" "Backup of the ledger" "Volumes"; do
    t_ok "$DOC has a section on $h" grep -q "^## $h" "$DOC"
done
# Every `docker compose ...` command of the page (continued lines joined).
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$DOC" | grep -oE 'docker compose [^`|]*' |
    sed 's/[[:space:]]*#.*//' | sort -u >"$T_TMP/cmds"
t_ok "the page has docker compose commands" test -s "$T_TMP/cmds"
python3 - "$T_TMP/cmds" >"$T_TMP/refs" <<'PY'
# Print "service NAME", "profile NAME", "omnisync WORD" for each command.
import shlex, sys
GLOBAL_VALUED = {"-f", "--file", "-p", "--project-name", "--env-file"}
VALUED = {"-e", "--env", "-v", "--volume", "-u", "--user", "-w", "--workdir",
          "--entrypoint", "--name", "-t", "--timeout", "--tail", "--index"}
SUBS = {"run", "exec", "logs", "ps", "up", "stop", "start", "restart", "rm",
        "build", "pull", "config", "down", "kill", "top", "images", "port"}
for line in open(sys.argv[1]):
    try:
        w = shlex.split(line)[2:]
    except ValueError:
        w = line.split()[2:]
    i, sub = 0, None
    while i < len(w):
        a = w[i]
        if a == "--profile":
            print("profile", w[i + 1]); i += 2; continue
        if a.startswith("--scale"):
            v = a.split("=", 1)[1] if "=" in a else w[i + 1]
            print("service", v.split("=")[0]); i += 1 if "=" in a else 2; continue
        if a in VALUED or (sub is None and a in GLOBAL_VALUED):
            i += 2; continue
        if a.startswith("-") or a in (">", "<") or a.startswith("omnisync-"):
            i += 1; continue
        if sub is None:
            sub = a
            if sub not in SUBS:
                print("subcommand", sub)
            i += 1; continue
        print("service", a)
        if sub in ("run", "exec"):
            rest = w[i + 1:]
            if rest and rest[0] == "omnisync":
                words = [x for x in rest[1:] if not x.startswith("-")]
                if words and words[0] != "...":  # prose: "omnisync ..."
                    print("omnisync", words[0])
            elif rest:
                print("program", rest[0])
            break
        i += 1
PY
t_unlike "no unknown docker compose subcommand" "$(grep '^subcommand' "$T_TMP/refs")" .
n=0
while read -r kind name; do
    case "$kind" in
    service)
        t_like "$DOC: service $name exists in docker-compose.yml" "$services" " $name "
        ;;
    profile)
        t_ok "$DOC: profile $name exists" grep -qE "^profiles [^ ]+ .*\\b$name\\b" "$T_TMP/facts"
        ;;
    omnisync)
        t_ok "$DOC: omnisync $name is a command" \
            sh -c "bin/omnisync help | awk -v n='$name' '\$1 == n { f = 1 } END { exit !f }'"
        ;;
    program)
        t_ok "$DOC: $name is run in a container that has it" \
            sh -c "echo '$name' | grep -qE '^(pg_dump|pg_restore|psql)$'"
        ;;
    esac
    n=$((n + 1))
done < <(sort -u "$T_TMP/refs")
t_ok "$DOC references checked ($n)" test "$n" -ge 10
# The volumes it describes are the file's.
for v in $(fact volumes); do
    t_ok "$DOC describes volume $v" grep -q "^| \`$v\`" "$DOC"
done
t_is "and no other" "$(grep -oE '^\| `[a-z-]+-data`' "$DOC" | tr -d '|` ' | sort | tr '\n' ' ')" \
    "$(fact volumes | tr ' ' '\n' | sort | tr '\n' ' ')"
t_done
