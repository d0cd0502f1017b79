#!/usr/bin/env bash
# Make a Docker engine available (for CI and local runs of the --db=docker target), then build
# the local Postgres image the container target uses (scripts/build-postgres-image.sh).
#
# Idempotent: does nothing to the engine when `docker info` already answers. Otherwise it installs
# Debian's docker.io if dockerd is missing, starts dockerd in the background (log: $DOCKERD_LOG)
# and waits up to $DOCKERD_WAIT_SECONDS for it to answer.
#
# It exports nothing: the test side sets TESTCONTAINERS_RYUK_DISABLED=true itself.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/cutover-dockerd.log}"
DOCKERD_WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"

log() { printf '[ci-prepare-docker] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root (or passwordless sudo) to run: $*"
        exit 1
    fi
}

if docker info >/dev/null 2>&1; then
    log "Docker engine already answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
else
    if ! command -v dockerd >/dev/null 2>&1; then
        if ! command -v apt-get >/dev/null 2>&1; then
            log "dockerd is missing and apt-get is not available: install a Docker engine by hand"
            exit 1
        fi
        log "dockerd missing: installing Debian's docker.io (apt-get update && apt-get install docker.io)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            docker.io >/dev/null
    fi
    if pgrep -x dockerd >/dev/null 2>&1; then
        log "dockerd is already running but not answering yet; waiting for it"
    else
        log "starting dockerd in the background (log: $DOCKERD_LOG)"
        # setsid + nohup: dockerd must outlive this script (and the CI step's process group).
        as_root setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    fi
    deadline=$((SECONDS + DOCKERD_WAIT_SECONDS))
    until docker info >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "ERROR: the Docker engine did not answer 'docker info' within ${DOCKERD_WAIT_SECONDS}s."
            log "Last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 1
    done
    log "Docker engine is up ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
fi

exec bash "$here/build-postgres-image.sh"
