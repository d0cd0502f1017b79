#!/usr/bin/env bash
# Build the local Postgres image used by the --db=docker target (testcontainers' PostgresContainer).
#
# No registry image can be pulled where this runs, so the image is built from Debian packages:
# debootstrap a minimal bookworm root file system with postgresql-15, add an entrypoint that does
# what the official postgres image's does with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB,
# and `docker import` it.
#
# Idempotent: does nothing when the tag already exists (`docker image inspect`).
#   CUTOVER_POSTGRES_IMAGE  tag to build (default cutover-postgres:15)
#   DEBIAN_MIRROR           Debian mirror (default: the one configured for apt on this machine)
#   DEBIAN_SUITE            Debian suite (default bookworm)
#   FORCE_REBUILD=1         rebuild even if the tag exists
set -euo pipefail

IMAGE="${CUTOVER_POSTGRES_IMAGE:-cutover-postgres:15}"
SUITE="${DEBIAN_SUITE:-bookworm}"
PG_MAJOR=15
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_root="$repo_root/.docker-build"

log() { printf '[build-postgres-image] %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
    log "ERROR: no Docker engine answers 'docker info'; run scripts/ci-prepare-docker.sh first"
    exit 1
fi

image_exists() { docker image inspect "$IMAGE" >/dev/null 2>&1; }

if [ "${FORCE_REBUILD:-0}" != 1 ] && image_exists; then
    log "image $IMAGE already present; nothing to do (FORCE_REBUILD=1 to rebuild)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    log "ERROR: debootstrap needs root; run this script as root (or via sudo)"
    exit 1
fi

mkdir -p "$build_root"
# Serialise concurrent builds (two CI steps, two shells): the second one waits, then finds the tag.
exec 9>"$build_root/.lock"
flock 9
if [ "${FORCE_REBUILD:-0}" != 1 ] && image_exists; then
    log "image $IMAGE was built by a concurrent run; nothing to do"
    exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The Debian mirror apt already uses here (the only network that is reachable may be that mirror).
detect_mirror() {
    local uri
    uri="$(
        {
            # deb822 sources: "URIs: <url>" in a stanza whose Suites include $SUITE (not -security).
            awk -v suite="$SUITE" '
                /^URIs:/   { uris = $2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) print uris }
                /^$/       { uris = "" }
            ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
            # one-line sources: "deb [opts] <url> <suite> ..."
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -E 's/\[[^]]*\]//' |
                awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }' || true
        } | grep -v -- '-security' | head -n 1
    )"
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"

work="$(mktemp -d "$build_root/postgres-rootfs.XXXXXX")"
rootfs="$work/rootfs"
cleanup() {
    # debootstrap mounts proc/sys inside the target; never rm -rf through a live mount.
    if [ -d "$work" ]; then
        awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf --one-file-system "$work"
        log "removed work dir $work"
    fi
}
trap cleanup EXIT

start=$SECONDS
log "debootstrap --variant=minbase --include=postgresql-$PG_MAJOR $SUITE from $MIRROR into $rootfs"
debootstrap --variant=minbase --include="postgresql-$PG_MAJOR" "$SUITE" "$rootfs" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || {
    log "ERROR: debootstrap failed; last lines of its log:"
    tail -n 40 "$work/debootstrap.log" >&2
    exit 1
}
log "debootstrap done in $((SECONDS - start))s"

# The Debian package creates a cluster "main"; the container initialises its own in $PGDATA.
rm -rf "$rootfs/var/lib/postgresql/$PG_MAJOR" "$rootfs/etc/postgresql/$PG_MAJOR"
# Trim what a server image does not need.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/var/run/postgresql"
chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# Minimal equivalent of the official postgres image's entrypoint:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / PGDATA / POSTGRES_INITDB_ARGS /
# POSTGRES_HOST_AUTH_METHOD (default scram-sha-256).
set -euo pipefail

if [ "${1:-}" = "" ] || [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi
shift

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    POSTGRES_USER="${POSTGRES_USER:-postgres}"
    POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        echo "       (set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host="$auth" --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\npassword_encryption = '%s'\n" \
        "$([ "$auth" = md5 ] && echo md5 || echo scram-sha-256)" >>"$PGDATA/postgresql.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        # Single-user mode: no server to start and stop, nothing listens before init is done.
        ident="\"${POSTGRES_DB//\"/\"\"}\""
        echo "CREATE DATABASE $ident" | postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo
    echo 'PostgreSQL init process complete; ready for start up.'
    echo
fi

exec postgres "$@"
ENTRYPOINT
chmod 755 "$rootfs/usr/local/bin/docker-entrypoint.sh"

pgbin="/usr/lib/postgresql/$PG_MAJOR/bin"
log "importing $rootfs as $IMAGE"
start=$SECONDS
tar --numeric-owner -C "$rootfs" -c . | docker import \
    -c 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    -c 'CMD ["postgres"]' \
    -c "ENV PATH=$pgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -c 'ENV PGDATA=/var/lib/postgresql/data' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'EXPOSE 5432' \
    -m "cutover-gates: debootstrap $SUITE minbase + postgresql-$PG_MAJOR" \
    - "$IMAGE" >/dev/null
log "imported $IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
