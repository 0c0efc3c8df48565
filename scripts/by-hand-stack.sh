#!/usr/bin/env bash
# Start the seed's MySQL master + N replicas by hand with the docker CLI, wait
# until a row written on the master is readable on every replica, print
#
#   by-hand replicas=N ms=<elapsed since the first docker command>
#
# on stdout, then tear everything down (containers, volumes, network).
#
#   scripts/by-hand-stack.sh N [IMAGE]        (IMAGE default: specstudio/mysql:local)
#
# The env mirrors what the seed spec (serverless master-replica MySQL) resolves
# to; the parameter-group values can be overridden with BYHAND_MYSQL_USER,
# BYHAND_MYSQL_PASSWORD, BYHAND_MYSQL_DATABASE, BYHAND_MYSQL_ROOT_PASSWORD.
# Ports are published on 127.0.0.1 only, and the host talks to the servers only
# through those published ports, with the host's `mariadb` client.
# BYHAND_KEEP=1 leaves the stack running (prints how to remove it).
# BYHAND_TIMEOUT (seconds, default 180) bounds the whole wait.
set -euo pipefail

usage() { echo "usage: $0 N [IMAGE]   (N = number of replicas, >= 1)" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
N="$1"
[[ "$N" =~ ^[0-9]+$ ]] && (( N >= 1 )) || usage
IMAGE="${2:-specstudio/mysql:local}"

APP_USER="${BYHAND_MYSQL_USER:-username}"
APP_PASSWORD="${BYHAND_MYSQL_PASSWORD:-password}"
APP_DATABASE="${BYHAND_MYSQL_DATABASE:-database}"
ROOT_PASSWORD="${BYHAND_MYSQL_ROOT_PASSWORD:-root}"
REPL_USER=repl_user
REPL_PASSWORD=xFAwjmUcECktqL
TIMEOUT="${BYHAND_TIMEOUT:-180}"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
log() { echo "[by-hand +$(( $(now_ms) - ${T0:-$(now_ms)} ))ms] $*" >&2; }

# ------------------------------------------------------------ prerequisites
if ! command -v mariadb >/dev/null 2>&1; then
    echo "[by-hand] installing the host mysql client (Debian mariadb-client)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-client >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-client >/dev/null; }
fi
docker info >/dev/null 2>&1 || { echo "[by-hand] docker daemon not reachable" >&2; exit 1; }
docker image inspect "$IMAGE" >/dev/null 2>&1 \
    || { echo "[by-hand] image $IMAGE not found; build it with: bash images/mysql/build.sh $IMAGE" >&2; exit 1; }

PREFIX="byhand-$$"
NET="$PREFIX-net"
CONTAINERS=()
VOLUMES=()
NET_CREATED=0

teardown() {
    local rc=$? t
    trap - EXIT INT TERM
    if [[ "${BYHAND_KEEP:-0}" == 1 ]]; then
        echo "[by-hand] BYHAND_KEEP=1: left running. Remove with:" >&2
        echo "  docker rm -f ${CONTAINERS[*]}; docker volume rm ${VOLUMES[*]}; docker network rm $NET" >&2
        exit "$rc"
    fi
    t=$(now_ms)
    if [[ $rc -ne 0 && ${#CONTAINERS[@]} -gt 0 ]]; then
        for c in "${CONTAINERS[@]}"; do
            echo "----- docker logs $c (last 15 lines)" >&2
            docker logs --tail 15 "$c" 2>&1 | sed 's/^/  /' >&2 || true
        done
    fi
    [[ ${#CONTAINERS[@]} -eq 0 ]] || docker rm -f -v "${CONTAINERS[@]}" >/dev/null 2>&1 || true
    [[ ${#VOLUMES[@]} -eq 0 ]] || docker volume rm -f "${VOLUMES[@]}" >/dev/null 2>&1 || true
    [[ $NET_CREATED -eq 0 ]] || docker network rm "$NET" >/dev/null 2>&1 || true
    echo "[by-hand] torn down in $(( $(now_ms) - t )) ms" >&2
    exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# host-side client: 127.0.0.1:<published port> only
q() { # q PORT SQL...
    local port=$1; shift
    MYSQL_PWD="$APP_PASSWORD" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$port" -u "$APP_USER" \
        --connect-timeout=1 --batch --skip-column-names "$APP_DATABASE" -e "$*" 2>/dev/null
}
published_port() { docker port "$1" 3306/tcp | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1; }
deadline_check() { (( $(now_ms) - T0 < TIMEOUT * 1000 )) || { log "TIMEOUT after ${TIMEOUT}s: $1"; exit 1; }; }

SEED_SECURITY=(-e SECURITY_CONTEXT_USER_ID=1001 -e SECURITY_CONTEXT_FS_GROUP=1001 -e SECURITY_CONTEXT_GROUP_ID=0)

# ------------------------------------------------------------ start
T0=$(now_ms)
docker network create "$NET" >/dev/null; NET_CREATED=1
log "network $NET"

MASTER="$PREFIX-master"
VOLUMES+=("$MASTER-data"); CONTAINERS+=("$MASTER")
docker run -d --name "$MASTER" --hostname master --network "$NET" --network-alias master \
    -p 127.0.0.1::3306 -v "$MASTER-data:/bitnami/mysql" \
    -e MYSQL_REPLICATION_MODE=master \
    -e MYSQL_REPLICATION_USER="$REPL_USER" -e MYSQL_REPLICATION_PASSWORD="$REPL_PASSWORD" \
    -e MYSQL_PASSWORD="$APP_PASSWORD" -e MYSQL_DATABASE="$APP_DATABASE" -e MYSQL_USER="$APP_USER" \
    -e MYSQL_ROOT_PASSWORD="$ROOT_PASSWORD" "${SEED_SECURITY[@]}" \
    "$IMAGE" >/dev/null
log "started $MASTER"

REPLICAS=()
for i in $(seq 1 "$N"); do
    r="$PREFIX-replica-$i"
    VOLUMES+=("$r-data"); CONTAINERS+=("$r"); REPLICAS+=("$r")
    docker run -d --name "$r" --hostname "replica-$i" --network "$NET" \
        -p 127.0.0.1::3306 -v "$r-data:/bitnami/mysql" \
        -e MYSQL_MASTER_HOST=master -e MYSQL_REPLICATION_MODE=slave \
        -e MYSQL_REPLICATION_USER="$REPL_USER" -e MYSQL_REPLICATION_PASSWORD="$REPL_PASSWORD" \
        -e MYSQL_USER="$APP_USER" -e MYSQL_PASSWORD="$APP_PASSWORD" -e MYSQL_DATABASE="$APP_DATABASE" \
        -e MYSQL_MASTER_ROOT_PASSWORD="$ROOT_PASSWORD" -e MYSQL_MASTER_PORT_NUMBER=3306 \
        "${SEED_SECURITY[@]}" \
        "$IMAGE" >/dev/null
    log "started $r"
done

MASTER_PORT=$(published_port "$MASTER")
declare -A RPORT=()
for r in "${REPLICAS[@]}"; do RPORT[$r]=$(published_port "$r"); done
log "ports: master=127.0.0.1:$MASTER_PORT $(for r in "${REPLICAS[@]}"; do printf '%s=127.0.0.1:%s ' "${r#"$PREFIX-"}" "${RPORT[$r]}"; done)"

# ------------------------------------------------------------ write on the master
TOKEN="byhand-$$-$(date +%s%N)"
until q "$MASTER_PORT" "SELECT 1" >/dev/null; do deadline_check "master never accepted $APP_USER"; sleep 0.05; done
log "master accepts $APP_USER"
q "$MASTER_PORT" "CREATE TABLE IF NOT EXISTS byhand_probe (id INT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64) NOT NULL); INSERT INTO byhand_probe (token) VALUES ('$TOKEN');" \
    || { log "write on master failed"; exit 1; }
log "row written on master"

# ------------------------------------------------------------ read on every replica
declare -A SEEN=()
while (( ${#SEEN[@]} < N )); do
    for r in "${REPLICAS[@]}"; do
        [[ -z "${SEEN[$r]:-}" ]] || continue
        if [[ "$(q "${RPORT[$r]}" "SELECT COUNT(*) FROM byhand_probe WHERE token='$TOKEN'" || true)" == 1 ]]; then
            SEEN[$r]=1
            log "row visible on ${r#"$PREFIX-"}"
        fi
    done
    (( ${#SEEN[@]} == N )) && break
    deadline_check "row not visible on all replicas"
    sleep 0.05
done
ELAPSED=$(( $(now_ms) - T0 ))
echo "by-hand replicas=$N ms=$ELAPSED"
