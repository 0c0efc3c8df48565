#!/usr/bin/env bash
# A real N-node Docker Swarm on this one machine, offline, for the swarm engine and its tests.
#
#   scripts/swarm.sh up [N]   N nodes (default 3): node1 is the manager, the others workers
#   scripts/swarm.sh down     remove everything `up` created (safe to run any number of times)
#   scripts/swarm.sh status   the state file and `docker node ls`; exit 1 when no swarm is up
#   scripts/swarm.sh stop-node I   a node failure: node I's dockerd, containerd, shims and task
#                             containers all KILLed at once (a worker only; `down` still removes it)
#
# Recipe: /work/shared/notes/swarm-offline.md. One extra dockerd per node, each in its own network
# namespace (swarm-node<i>, eth0 10.99.0.<10+i>/24, Engine API unix:///run/swarm-node<i>.sock), the
# namespaces wired to a bridge inside a private "switch" namespace (swarm-sw, 10.99.0.1/24) and to
# the host through one veth (swarm-host 10.99.0.254/24), so host processes reach host-mode published
# ports at 10.99.0.<10+i>:PORT. Nothing else: no default route in any namespace, no host iptables
# rule, no change to the host's dockerd, its containers, networks, volumes or images.
# Node i carries the label zone=zone-<a,b,c,...>; every node gets the images in $SWARM_IMAGES
# (default specstudio/mysql:local), copied from the host daemon with docker save (cached by image ID
# in $SWARM_IMAGE_CACHE) and docker load (no registry).
#
# The state file ($SWARM_STATE, default /run/specstudio-swarm.env) is shell-sourceable:
#   SWARM_NODES=3  SWARM_MANAGER=unix:///run/swarm-node1.sock  SWARM_MANAGER_ADDR=10.99.0.11
#   SWARM_NODE<i>_HOST=unix:///run/swarm-node<i>.sock  SWARM_NODE<i>_ADDR=10.99.0.<10+i>
#   SWARM_NODE<i>_ZONE=zone-<x>  SWARM_NODE<i>_ID=<swarm node id>
# Names and addresses are fixed, so there is one such swarm per machine: `up` refuses to run while
# one exists (state file or namespaces present); run `down` first. Needs root.
set -euo pipefail

NET=10.99.0
SW=swarm-sw
STATE=${SWARM_STATE:-/run/specstudio-swarm.env}
LOCK=/run/specstudio-swarm.lock
IMAGES=${SWARM_IMAGES:-specstudio/mysql:local}
IMAGE_CACHE=${SWARM_IMAGE_CACHE:-/var/cache/specstudio-swarm}
TMPFS_SIZE=${SWARM_TMPFS_SIZE:-2g}
ADDR_POOL=10.97.0.0/16 # overlay subnets, /24 each: never overlaps the 10.99.0.0/24 underlay
ZONES=(a b c d e f g h i j k l m n o p)

T0=$(date +%s%N)
log() {
    local ms=$((($(date +%s%N) - T0) / 1000000))
    printf '[swarm %3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}
die() { log "ERROR: $*"; exit 1; }
sock() { echo "unix:///run/swarm-node$1.sock"; }
d() { local i=$1; shift; docker -H "$(sock "$i")" "$@"; }
nodes_present() {
    local f
    for f in /run/netns/swarm-node* /run/swarm-node*.sock /run/swarm-node*/dockerd.pid; do
        [[ -e $f ]] || continue
        f=${f#/run/netns/swarm-node}; f=${f#/run/swarm-node}; f=${f%%[./]*}
        [[ $f =~ ^[0-9]+$ ]] && echo "$f"
    done | sort -nu
}

start_node() {
    local i=$1 ns=swarm-node$1
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n $SW link add "vn$i" type veth peer name eth0 netns "$ns"
    ip -n $SW link set "vn$i" master br0 up
    ip -n "$ns" addr add "$NET.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "/var/lib/$ns" "/run/$ns"
    # own config file (a future /etc/docker/daemon.json is the host's) and own key.json (engine ID)
    printf '{"deprecated-key-path": "/var/lib/%s/key.json"}\n' "$ns" >"/run/$ns.json"
    # unshare -m: the tmpfs data-root, overlay2 layers and netns files stay private to this dockerd
    #   and vanish with its last process; unshare -u + hostname: distinct node names.
    # nsenter --net, not `ip netns exec` (that remounts /sys and hides /sys/fs/cgroup).
    # DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks use the loaded image and never try a pull.
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
        unshare --mount --uts --propagation slave \
        sh -c "hostname $ns; mount -t tmpfs -o size=$TMPFS_SIZE,mode=0711 $ns /var/lib/$ns; exec \"\$@\"" sh \
        nsenter --net="/run/netns/$ns" \
        dockerd --config-file "/run/$ns.json" \
        --data-root "/var/lib/$ns" --exec-root "/run/$ns" --pidfile "/run/$ns/dockerd.pid" \
        -H "$(sock "$i")" \
        --storage-driver overlay2 \
        --bip "172.$((20 + i)).0.1/24" \
        --default-address-pool "base=172.$((20 + i)).0.0/16,size=24" \
        --cgroup-parent "/$ns" \
        --dns "$NET.1" \
        >"/var/log/$ns.log" 2>&1 </dev/null 9>&- &
}

load_images() {
    local n=$1 img id tar i p pids
    for img in $IMAGES; do
        id=$(docker image inspect "$img" --format '{{.Id}}' 2>/dev/null) ||
            die "the host daemon has no image $img (bash images/mysql/build.sh builds specstudio/mysql:local)"
        tar=$IMAGE_CACHE/${id#sha256:}.tar
        if [[ ! -s $tar ]]; then
            mkdir -p "$IMAGE_CACHE"
            docker save "$img" -o "$tar.partial.$$" && mv "$tar.partial.$$" "$tar"
            log "saved $img to $tar"
        fi
        pids=()
        for i in $(seq 1 "$n"); do
            d "$i" load -q -i "$tar" >/dev/null &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || die "loading $img failed"; done
        log "loaded $img into $n nodes"
    done
}

up() {
    local n=${1:-3} i
    [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 16)) || die "N must be 1..16, got '$n'"
    [[ $EUID -eq 0 ]] || die "run as root"
    local tool
    for tool in ip unshare nsenter dockerd docker; do
        command -v $tool >/dev/null || die "$tool missing: run scripts/setup-system.sh --tests"
    done
    if [[ -e $STATE || -e /run/netns/$SW || -n $(nodes_present) ]] || ip link show swarm-host >/dev/null 2>&1; then
        die "a swarm is already up (or half torn down): run '$0 down' first"
    fi
    # from here on, a failure (or an interrupt) removes whatever was created
    UP_DONE=0
    trap 'if [[ $UP_DONE != 1 ]]; then log "bring-up failed; tearing down"; down; fi' EXIT
    # switch namespace: its own iptables (FORWARD ACCEPT), so the host's FORWARD DROP never applies
    ip netns add $SW
    ip -n $SW link set lo up
    ip -n $SW link add br0 type bridge
    ip -n $SW addr add $NET.1/24 dev br0
    ip -n $SW link set br0 up
    ip link add swarm-host type veth peer name vhost netns $SW
    ip -n $SW link set vhost master br0 up
    ip addr add $NET.254/24 dev swarm-host
    ip link set swarm-host up
    for i in $(seq 1 "$n"); do start_node "$i"; done
    for i in $(seq 1 "$n"); do
        local ok=0
        for _ in $(seq 1 120); do
            d "$i" version >/dev/null 2>&1 && { ok=1; break; }
            sleep 0.25
        done
        [[ $ok == 1 ]] || { tail -20 "/var/log/swarm-node$i.log" >&2; false; }
    done
    log "$n dockerd up"
    d 1 swarm init --advertise-addr $NET.11 --listen-addr $NET.11:2377 \
        --default-addr-pool $ADDR_POOL --default-addr-pool-mask-length 24 >/dev/null
    local tok pids=() p
    tok=$(d 1 swarm join-token -q worker)
    for i in $(seq 2 "$n"); do
        d "$i" swarm join --token "$tok" --advertise-addr "$NET.$((10 + i))" \
            --listen-addr "$NET.$((10 + i)):2377" $NET.11:2377 >/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    log "swarm: node1 manager, $((n - 1)) workers joined"
    local state id
    state="SWARM_NODES=$n"$'\n'"SWARM_MANAGER=$(sock 1)"$'\n'"SWARM_MANAGER_ADDR=$NET.11"$'\n'
    for i in $(seq 1 "$n"); do
        id=$(d "$i" info --format '{{.Swarm.NodeID}}')
        d 1 node update --label-add "zone=zone-${ZONES[$((i - 1))]}" "$id" >/dev/null
        state+="SWARM_NODE${i}_HOST=$(sock "$i")"$'\n'"SWARM_NODE${i}_ADDR=$NET.$((10 + i))"$'\n'
        state+="SWARM_NODE${i}_ZONE=zone-${ZONES[$((i - 1))]}"$'\n'"SWARM_NODE${i}_ID=$id"$'\n'
    done
    log "nodes labelled zone=zone-a.."
    load_images "$n"
    printf '%s' "$state" >"$STATE.partial"
    mv "$STATE.partial" "$STATE"
    UP_DONE=1
    log "up: manager $(sock 1) at $NET.11; state in $STATE"
    cat "$STATE"
}

down() {
    local i pf pids present
    present=$(nodes_present)
    # 1. TERM each dockerd: it stops its containers and its containerd
    for i in $present; do
        pf=/run/swarm-node$i/dockerd.pid
        if [[ -s $pf ]]; then kill -TERM "$(cat "$pf")" 2>/dev/null || true; fi
    done
    for i in $present; do
        pf=/run/swarm-node$i/dockerd.pid
        for _ in $(seq 1 80); do
            [[ -s $pf ]] && kill -0 "$(cat "$pf")" 2>/dev/null || break
            sleep 0.25
        done
    done
    # 2. whatever still runs in a node namespace (shims, containers): KILL, by pid
    for i in $present; do
        [[ -e /run/netns/swarm-node$i ]] || continue
        for _ in 1 2 3 4 5 6; do
            pids=$(ip netns pids "swarm-node$i" 2>/dev/null || true)
            [[ -n $pids ]] || break
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            sleep 0.5
        done
    done
    # 2b. task containers live in their own network namespaces but in this node's cgroups
    #     (--cgroup-parent): a dockerd that died without stopping them leaves them there
    for i in $present; do
        for _ in 1 2 3 4 5 6; do
            pids=$(find /sys/fs/cgroup/*/swarm-node"$i" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
            [[ -n $pids ]] || break
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            sleep 0.5
        done
    done
    # 3. links and namespaces
    ip link del swarm-host 2>/dev/null || true
    for i in $present; do ip netns del "swarm-node$i" 2>/dev/null || true; done
    ip netns del $SW 2>/dev/null || true
    # `ip netns add` bind-mounts /run/netns onto itself: undo that once no namespace is left
    if [[ -d /run/netns && -z $(ls -A /run/netns) ]]; then
        umount /run/netns 2>/dev/null || true
        rmdir /run/netns 2>/dev/null || true
    fi
    # 4. cgroups (cgroupfs, --cgroup-parent /swarm-node<i>), deepest first
    for i in $present; do
        find /sys/fs/cgroup/*/swarm-node"$i" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    # 5. files; the data-roots were tmpfs mounts private to each dockerd, gone with it
    for i in $present; do
        rm -f "/run/swarm-node$i.sock" "/run/swarm-node$i.json" "/var/log/swarm-node$i.log"
        if grep -qE " /(var/lib|run)/swarm-node$i[/ ]" /proc/mounts; then
            log "WARNING: mounts remain under swarm-node$i; not deleting its directories"
        else
            rm -rf --one-file-system "/var/lib/swarm-node$i" "/run/swarm-node$i"
        fi
    done
    rm -f "$STATE" "$STATE.partial"
    log "down: removed nodes ${present//$'\n'/ }"
}

# The node's processes: its dockerd and containerd (its network namespace) and its task
# containers (their own namespaces, but this node's cgroups through --cgroup-parent).
node_pids() {
    {
        ip netns pids "swarm-node$1" 2>/dev/null || true
        find /sys/fs/cgroup/*/swarm-node"$1" -name cgroup.procs -exec cat {} + 2>/dev/null || true
    } | sort -u
}
stop_node() {
    local i=$1 pids
    [[ $i =~ ^[0-9]+$ && -e /run/netns/swarm-node$i ]] || die "no node '$i' is up"
    ((i != 1)) || die "node1 is the only manager: stopping it ends the swarm (use down)"
    for _ in 1 2 3 4 5 6; do
        pids=$(node_pids "$i")
        [[ -n $pids ]] || break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.5
    done
    [[ -z $(node_pids "$i") ]] || die "node$i still has processes"
    log "node$i stopped: its daemon and containers killed (the manager will report it down)"
}
status() {
    [[ -s $STATE ]] || { echo "no swarm up (no $STATE)" >&2; exit 1; }
    cat "$STATE"
    d 1 node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'
}

# one invocation at a time (up and down of the same machine-wide swarm must not interleave)
exec 9>"$LOCK"
flock -n 9 || die "another scripts/swarm.sh is running"
case "${1:-}" in
    up) up "${2:-${SWARM_NODES:-3}}" ;;
    down) down ;;
    status) status ;;
    stop-node) stop_node "${2:-}" ;;
    *) echo "usage: $0 up [N] | down | status | stop-node I" >&2; exit 2 ;;
esac
