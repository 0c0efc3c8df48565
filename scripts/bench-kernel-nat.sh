#!/usr/bin/env bash
# The endpoint against kernel NAT (issue 14): a second dockerd with
# `--userland-proxy=false`, alone in its own network namespace, so its
# published ports are iptables DNAT (no docker-proxy) without restarting the
# machine's daemon. The benchmark itself (scripts/bench-serverless.py --only
# throughput) runs inside that namespace too: the server, its endpoints, the
# containers' published ports and sysbench all meet on the namespace's own
# loopback; nothing is reachable from or to the outside (the namespace has
# only `lo` and the daemon's bridges, 10.98.0.0/16, no route out).
#
#   bench-kernel-nat.sh up       # namespace + dockerd + specstudio/mysql:local loaded
#   bench-kernel-nat.sh run ARGS # up, then bench-serverless.py ARGS inside, then down
#   bench-kernel-nat.sh down     # remove everything `up` made (safe to run twice)
#
# Namespace knat-h14; Engine API unix:///run/knat-h14.sock; exec-root
# /run/knat-h14; data-root /var/lib/knat-h14 on a tmpfs private to that
# dockerd; cgroup parent /knat-h14; log /var/log/knat-h14.log; the image is
# saved once to /var/cache/knat-h14/<image id>.tar. The host daemon, its
# iptables rules and other namespaces are not touched. Needs root, `ip`,
# `unshare`, `nsenter`, Debian's docker.io. Modelled on
# /work/shared/notes/swarm-offline.md (see there why nsenter, not `ip netns exec`).
set -euo pipefail

NS=knat-h14
SOCK=unix:///run/$NS.sock
IMAGE=specstudio/mysql:local
CACHE=/var/cache/$NS
ROOT=$(cd "$(dirname "$0")/.." && pwd)

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[knat %3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
d() { docker -H "$SOCK" "$@"; }

up() {
    [[ $EUID -eq 0 ]] || die "run as root"
    [[ ! -e /run/netns/$NS ]] || die "namespace $NS exists: run '$0 down' first"
    ip netns add $NS
    ip -n $NS link set lo up
    mkdir -p /var/lib/$NS /run/$NS
    printf '{"deprecated-key-path": "/var/lib/%s/key.json"}\n' $NS > /run/$NS.json
    # --userland-proxy=false: published ports are DNAT rules (route_localnet
    # on the bridges makes 127.0.0.1 work), which is what is measured here
    unshare --mount --propagation slave \
        sh -c "mount -t tmpfs -o size=3g,mode=0711 $NS /var/lib/$NS; exec \"\$@\"" sh \
        nsenter --net=/run/netns/$NS \
        dockerd --config-file /run/$NS.json \
            --data-root /var/lib/$NS --exec-root /run/$NS --pidfile /run/$NS/dockerd.pid \
            -H "$SOCK" --storage-driver overlay2 \
            --userland-proxy=false \
            --bip 10.98.0.1/24 --default-address-pool base=10.98.16.0/20,size=24 \
            --cgroup-parent /$NS --dns 10.98.0.1 \
            >/var/log/$NS.log 2>&1 </dev/null &
    local ok=0
    for _ in $(seq 1 120); do d version >/dev/null 2>&1 && { ok=1; break; }; sleep 0.25; done
    [[ $ok == 1 ]] || { tail -20 /var/log/$NS.log >&2; die "dockerd in $NS did not answer within 30 s"; }
    log "dockerd up in $NS ($(d info --format '{{.ServerVersion}}'))"
    local id tar
    id=$(docker image inspect "$IMAGE" --format '{{.Id}}') || die "the host daemon has no $IMAGE (bash images/mysql/build.sh)"
    tar=$CACHE/${id#sha256:}.tar
    if [[ ! -s $tar ]]; then
        mkdir -p "$CACHE"
        docker save "$IMAGE" -o "$tar.partial" && mv "$tar.partial" "$tar"
        log "saved $IMAGE to $tar"
    fi
    d load -q -i "$tar" >/dev/null
    log "loaded $IMAGE"
}

down() {
    local pf=/run/$NS/dockerd.pid
    if [[ -s $pf ]]; then
        local pid; pid=$(cat $pf)
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    # whatever still runs in the namespace (shims, containers): KILL by pid;
    # with the last of them the private mounts (the tmpfs data-root) go
    if [[ -e /run/netns/$NS ]]; then
        for _ in 1 2 3 4 5 6; do
            local pids; pids=$(ip netns pids $NS 2>/dev/null || true)
            [[ -n $pids ]] || break
            kill -KILL $pids 2>/dev/null || true; sleep 0.5
        done
        ip netns del $NS 2>/dev/null || true
    fi
    # `ip netns add` bind-mounts /run/netns; undo it only when no namespace is left
    if [[ -d /run/netns && -z $(ls -A /run/netns) ]]; then umount /run/netns 2>/dev/null || true; rmdir /run/netns 2>/dev/null || true; fi
    find /sys/fs/cgroup/*/$NS -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rm -f /run/$NS.sock /run/$NS.json
    if grep -qE " /(var/lib|run)/$NS[/ ]" /proc/mounts; then
        log "WARNING: mounts remain under $NS; not deleting its directories"
    else
        rm -rf --one-file-system /var/lib/$NS /run/$NS
    fi
    log "down"
}

run() {
    trap down EXIT
    up
    log "bench-serverless.py $* (inside $NS)"
    DOCKER_HOST=$SOCK nsenter --net=/run/netns/$NS python3 "$ROOT/scripts/bench-serverless.py" "$@"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 up | run [bench-serverless.py args] | down" >&2; exit 2 ;;
esac
