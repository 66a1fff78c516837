# shellcheck shell=bash
# tests/deploy/lib.sh — helpers of the image tests (tests/deploy/NN-*.sh run
# by tests/run.sh as the area `deploy`; not a test itself).  Podman only,
# nothing pulled: the Debian base images are built from Debian's archive.
#
#   . "$OMNISYNC_ROOT/tests/deploy/lib.sh"
#   dep_podman_ready          # podman usable here (writes containers.conf,
#                             # exports CONTAINERS_CONF); else 1 with the
#                             # reason in $DEP_WHY
#   dep_base_images           # debian:12 and debian:12-slim in podman's
#                             # store, from mmdebstrap tarballs cached in
#                             # $DEP_CACHE/images (rebuilt when older than
#                             # OMNISYNC_BASE_MAX_DAYS, default 7, or with
#                             # OMNISYNC_BASE_REFRESH=1)
#   dep_build TARGET LOG      # podman build --pull=never --target TARGET of
#                             # deploy/Dockerfile; prints the image id
#   dep_prune_old             # drop the Dockerfile's untagged old images
#   dep_image_size IMAGE      # its size in bytes (podman image inspect)
#   dep_run NAME [-e V|-v VOL]... IMAGE ARGS...
#                             # podman run -d --network=host --read-only
#                             # with the harness's OMNISYNC_PG, _KAFKA,
#                             # _REDIS, _SECRET_KEY; removed by dep_cleanup
#   dep_oneshot [-e V|-v VOL]... IMAGE ARGS...   # the same, --rm, waited for
#   dep_logs NAME             # a container's output
#   dep_cleanup               # save the outputs in $DEP_LOGDIR, remove the
#                             # containers this script started
#
# Containers are named "$DEP_PREFIX-NAME" (unique per script run).  Extra
# `podman run` options for every container: the array DEP_RUN_OPTS.

DEP_CACHE=${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/omnisync
DEP_IMAGES=$DEP_CACHE/images
DEP_PREFIX=omt-$$-$RANDOM
DEP_WHY=
DEP_CONTAINERS=()
DEP_RUN_OPTS=()
DEP_OPTS=()
DEP_ARGS=()
DEP_SUITE=bookworm
# debian:12-slim is debian:12 without these (as Debian's own slim images:
# debuerreotype's slimify); dpkg keeps them out of later installs too.
DEP_SLIM_EXCLUDE=(/usr/share/doc/ /usr/share/groff/ /usr/share/info/
    /usr/share/linda/ /usr/share/lintian/overrides/ /usr/share/locale/
    /usr/share/man/)

dep_podman_conf() {
    local d=$DEP_CACHE/podman
    mkdir -p "$d" || return 1
    # runc: crun refuses this host's mixed cgroup setup; the default ulimits
    # exceed the host's hard limits.
    cat >"$d/containers.conf.$$" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
    mv -f "$d/containers.conf.$$" "$d/containers.conf" || return 1
    export CONTAINERS_CONF=$d/containers.conf
}

dep_podman_ready() {
    local c out
    for c in podman runc mmdebstrap python3; do
        if ! command -v "$c" >/dev/null 2>&1; then
            DEP_WHY="$c is not installed (deploy/install-deps.sh installs it)"
            return 1
        fi
    done
    if [ "$(id -u)" -ne 0 ]; then
        DEP_WHY="not root (the test runs rootful podman and mmdebstrap)"
        return 1
    fi
    if ! dep_podman_conf; then
        DEP_WHY="cannot write $DEP_CACHE/podman/containers.conf"
        return 1
    fi
    if ! out=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
        DEP_WHY="podman info fails: $(printf '%s' "$out" | tail -1)"
        return 1
    fi
    if [ "$out" != runc ]; then
        DEP_WHY="podman uses $out, not runc, despite $CONTAINERS_CONF"
        return 1
    fi
    return 0
}

# dep_slim FULL SLIM: SLIM is the FULL rootfs tarball without the slim
# excludes, plus the dpkg config that keeps them out of later installs.
dep_slim() {
    python3 - "$1" "$2" "${DEP_SLIM_EXCLUDE[@]}" <<'PY'
import io, sys, tarfile, time
src, dst, excl = sys.argv[1], sys.argv[2], sys.argv[3:]
def dropped(m):
    p = "/" + m.name.lstrip("./")
    for e in excl:
        if p.startswith(e):
            # Debian's slim keeps the copyright files (and their folders).
            if e == "/usr/share/doc/":
                return not (m.isdir() or p.endswith("/copyright"))
            return True
    return False
cfg = "".join("path-exclude %s*\n" % e for e in excl)
cfg += "path-include /usr/share/doc/*/copyright\n"
with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in i:
        if dropped(m):
            continue
        o.addfile(m, i.extractfile(m) if m.isreg() else None)
    info = tarfile.TarInfo("./etc/dpkg/dpkg.cfg.d/slim")
    info.size, info.mode, info.mtime = len(cfg), 0o644, int(time.time())
    o.addfile(info, io.BytesIO(cfg.encode()))
PY
}

# dep_mmdebstrap OUT: a minbase Debian 12 rootfs tarball (merged /usr
# without the usrmerge package and its perl), the .debs kept in
# $DEP_IMAGES/debs for the next build.
dep_mmdebstrap() {
    mkdir -p "$DEP_IMAGES/debs" || return 1
    mmdebstrap --variant=minbase --quiet \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --skip=essential/unlink \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $DEP_IMAGES/debs /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $DEP_IMAGES/debs" \
        --format=tar "$DEP_SUITE" "$1"
}

# dep_import TARBALL TAG: podman import unless TAG already is that tarball
# (label org.omnisync.base = the tarball's sha256).
dep_import() {
    local tar=$1 tag=$2 sum have
    sum=$(cut -d' ' -f1 "$tar.sha256") || return 1
    have=$(podman image inspect --format '{{index .Labels "org.omnisync.base"}}' \
        "$tag" 2>/dev/null)
    [ "$have" = "$sum" ] && return 0
    podman import --quiet --change "LABEL org.omnisync.base=$sum" \
        --change 'CMD ["bash"]' "$tar" "$tag" >/dev/null
}

dep_base_images() {
    local full=$DEP_IMAGES/debian-12.tar slim=$DEP_IMAGES/debian-12-slim.tar
    local days=${OMNISYNC_BASE_MAX_DAYS:-7} rc=0
    mkdir -p "$DEP_IMAGES" || return 1
    (
        # One builder at a time; others wait and reuse its tarballs.
        flock 9 || exit 1
        if [ "${OMNISYNC_BASE_REFRESH:-0}" = 1 ] || [ ! -s "$slim.sha256" ] ||
            [ -n "$(find "$slim.sha256" -mtime +"$days" 2>/dev/null)" ]; then
            rm -f "$full" "$full.sha256" "$slim" "$slim.sha256"
            if ! dep_mmdebstrap "$full.tmp.tar" >"$DEP_IMAGES/mmdebstrap.log" 2>&1 ||
                ! dep_slim "$full.tmp.tar" "$slim.tmp.tar"; then
                tail -20 "$DEP_IMAGES/mmdebstrap.log" >&2
                rm -f "$full.tmp.tar" "$slim.tmp.tar"
                exit 1
            fi
            mv "$full.tmp.tar" "$full" && mv "$slim.tmp.tar" "$slim" || exit 1
            sha256sum "$full" >"$full.sha256" && sha256sum "$slim" >"$slim.sha256"
        fi
    ) 9>"$DEP_IMAGES/.lock" || return 1
    dep_import "$full" debian:12 || rc=1
    dep_import "$slim" debian:12-slim || rc=1
    return $rc
}

# dep_build TARGET LOG: build deploy/Dockerfile's TARGET, tagged
# localhost/omnisync-test:TARGET (the tag keeps its layers as the next
# build's cache; stages are shared between targets), output appended to
# LOG; prints the image id (containers run by id: a concurrent run may
# move the tag).
dep_build() {
    local target=$1 log=$2 iid
    iid=$(mktemp) || return 1
    echo "== podman build --target $target" >>"$log"
    if ! podman build --pull=never --format docker --layers --iidfile "$iid" \
        -f "$OMNISYNC_ROOT/deploy/Dockerfile" --target "$target" \
        -t "localhost/omnisync-test:$target" "$OMNISYNC_ROOT" >>"$log" 2>&1; then
        rm -f "$iid"
        return 1
    fi
    cat "$iid"
    rm -f "$iid"
}

# dep_prune_old: remove the images of this Dockerfile and the base images
# no tag uses any more (earlier builds' layers, replaced bases) once they are
# an hour old (younger ones may belong to a build under way).
dep_prune_old() {
    local l
    for l in org.opencontainers.image.title=omnisync org.omnisync.base; do
        podman image prune -f --filter "label=$l" --filter until=1h >/dev/null 2>&1
    done
    return 0
}

dep_image_size() {
    podman image inspect --format '{{.Size}}' "$1"
}

# dep_opts ARGS...: the leading `-e X` / `-v X` pairs of ARGS go to
# DEP_OPTS (with the harness's servers, as the containers see them on the
# host network), the rest to DEP_ARGS (the image and its arguments).
dep_opts() {
    DEP_OPTS=(-e OMNISYNC_PG -e OMNISYNC_KAFKA -e OMNISYNC_REDIS
        -e OMNISYNC_SECRET_KEY "${DEP_RUN_OPTS[@]}")
    while [ $# -ge 2 ] && { [ "$1" = -e ] || [ "$1" = -v ]; }; do
        DEP_OPTS+=("$1" "$2")
        shift 2
    done
    DEP_ARGS=("$@")
}

# dep_run NAME [-e VAR[=VALUE] | -v VOLUME]... IMAGE ARGS...
dep_run() {
    local name=$DEP_PREFIX-$1 err
    shift
    dep_opts "$@"
    DEP_CONTAINERS+=("$name")
    # Without systemd, podman 4.3 complains that it cannot add the
    # healthcheck's timer (harmless: `podman healthcheck run` still works);
    # its stderr is shown only when the run fails.
    err=$(podman run -d --name "$name" --network=host --read-only \
        --label org.omnisync.test="$DEP_PREFIX" "${DEP_OPTS[@]}" \
        "${DEP_ARGS[@]}" 2>&1 >/dev/null) || {
        printf '%s\n' "$err" >&2
        return 1
    }
}

# dep_oneshot [-e VAR[=VALUE] | -v VOLUME]... IMAGE ARGS...: run, wait,
# remove; its output and exit status.
dep_oneshot() {
    dep_opts "$@"
    podman run --rm --network=host --read-only "${DEP_OPTS[@]}" "${DEP_ARGS[@]}"
}

# dep_logs NAME: the container's output (stdout and stderr).
dep_logs() {
    podman logs "$DEP_PREFIX-$1" 2>&1
}

# dep_cleanup: keep each container's output in $DEP_LOGDIR/NAME.log (when
# set), then remove the containers.
dep_cleanup() {
    local c
    for c in "${DEP_CONTAINERS[@]}"; do
        [ -n "${DEP_LOGDIR:-}" ] &&
            podman logs "$c" >"$DEP_LOGDIR/${c#"$DEP_PREFIX"-}.log" 2>&1
        podman rm -f -t 0 "$c" >/dev/null 2>&1
    done
    DEP_CONTAINERS=()
}
