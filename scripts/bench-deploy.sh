#!/usr/bin/env bash
# Time from `POST /api/deployments` (the seed spec) to a row written on the
# master being readable on every replica, for 1 and 3 replicas, next to the
# same stack started by hand with the docker CLI (scripts/by-hand-stack.sh) in
# the same run, and print the ratio.
#
#   scripts/bench-deploy.sh [RUNS]        (RUNS per size, default 1; medians are reported)
#
# Needs: a running dockerd, the image specstudio/mysql:local
# (bash images/mysql/build.sh), python3, curl, and the host `mariadb` client
# (installed by by-hand-stack.sh when missing). Talks to the servers only
# through their published 127.0.0.1 ports. Builds the server in release mode
# unless SPECSTUDIO_BIN points at a binary.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-1}"
IMAGE=specstudio/mysql:local
TOKEN="bench-$$"
APP_USER=benchuser
APP_PASSWORD="benchPw$$x"
APP_DATABASE=benchdb

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
log() { echo "[bench] $*" >&2; }

docker info >/dev/null 2>&1 || { log "docker daemon not reachable"; exit 1; }
docker image inspect "$IMAGE" >/dev/null 2>&1 || { log "image $IMAGE missing: bash images/mysql/build.sh"; exit 1; }
command -v mariadb >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-client >/dev/null

BIN="${SPECSTUDIO_BIN:-}"
if [[ -z "$BIN" ]]; then
    log "building the server (release)"
    cargo build -q --release -p specstudio
    BIN=target/release/specstudio
fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [[ -z "$SERVER_PID" ]] || { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT

SPECSTUDIO_TOKEN="$TOKEN" "$BIN" serve --addr 127.0.0.1:0 --data-dir "$WORK/data" --dist-dir /nonexistent \
    --image-map 'docker.io/bitnami/mysql:*=specstudio/mysql:local' >"$WORK/out.log" 2>"$WORK/err.log" &
SERVER_PID=$!
for _ in $(seq 1 200); do
    BASE=$(sed -n 's/^specstudio listening on //p' "$WORK/out.log" | head -n1)
    [[ -n "$BASE" ]] && break
    sleep 0.05
done
[[ -n "${BASE:-}" ]] || { log "server did not start"; cat "$WORK/err.log" >&2; exit 1; }
log "server at $BASE"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
q() { # q PORT SQL
    MYSQL_PWD="$APP_PASSWORD" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$1" -u "$APP_USER" \
        --connect-timeout=1 --batch --skip-column-names "$APP_DATABASE" -e "$2" 2>/dev/null
}

# one deployment of N replicas: prints "<ms to running> <ms to row on every replica>"
bench_server() {
    local n=$1 body id t0 status view master probe ready_ms
    body=$(python3 - "$n" <<EOF
import json, sys
print(json.dumps({"spec": open("examples/serverless-mysql-master-replica.yaml").read(),
  "params": {"masterInstanceType": "t3.small", "replicaInstanceType": "t3.small",
             "mysqlUsername": "$APP_USER", "mysqlPassword": "$APP_PASSWORD",
             "mysqlDatabase": "$APP_DATABASE", "numReadReplicas": int(sys.argv[1])}}))
EOF
)
    t0=$(now_ms)
    id=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "$body" "$BASE/api/deployments" | json 'd["id"]')
    while :; do
        # the list is cheap (stored status); the full view probes replicas live
        list=$(curl -sf "$BASE/api/deployments")
        [[ "$list" == *"\"id\":\"$id\",\"status\":\"running\""* ]] && break
        [[ "$list" == *"\"id\":\"$id\",\"status\":\"failed\""* ]] && status=failed || status=other
        [[ "$status" == failed ]] && { log "deployment failed: $view"; exit 1; }
        (( $(now_ms) - t0 < 240000 )) || { log "timeout"; exit 1; }
        sleep 0.05
    done
    ready_ms=$(( $(now_ms) - t0 ))
    view=$(curl -sf "$BASE/api/deployments/$id")
    master=$(json '[e["port"] for e in d["endpoints"] if e["resource"]=="Master"][0]' <<<"$view")
    probe="bench-$(date +%s%N)"
    q "$master" "CREATE TABLE IF NOT EXISTS bench_probe (id INT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64)); INSERT INTO bench_probe (token) VALUES ('$probe');"
    for port in $(json '" ".join(str(e["port"]) for e in d["endpoints"] if e["resource"]=="Replica")' <<<"$view"); do
        until [[ "$(q "$port" "SELECT COUNT(*) FROM bench_probe WHERE token='$probe'" || true)" == 1 ]]; do
            (( $(now_ms) - t0 < 240000 )) || { log "row never visible on $port"; exit 1; }
            sleep 0.05
        done
    done
    echo "$ready_ms $(( $(now_ms) - t0 ))"
    curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" "$BASE/api/deployments/$id" >/dev/null
    while curl -sf "$BASE/api/deployments/$id" >/dev/null; do sleep 0.1; done
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

printf '%-9s %-16s %-22s %-14s %s\n' replicas "server→running" "server→row on all" "by-hand→row" "ratio (server/by-hand)"
for n in 1 3; do
    S_READY=(); S_ROW=(); H_ROW=()
    for _ in $(seq 1 "$RUNS"); do
        read -r ready row < <(bench_server "$n")
        S_READY+=("$ready"); S_ROW+=("$row")
        hand=$(bash scripts/by-hand-stack.sh "$n" 2>/dev/null | sed -n 's/.*ms=\([0-9]*\).*/\1/p')
        H_ROW+=("$hand")
    done
    r=$(printf '%s\n' "${S_READY[@]}" | median)
    s=$(printf '%s\n' "${S_ROW[@]}" | median)
    h=$(printf '%s\n' "${H_ROW[@]}" | median)
    printf '%-9s %-16s %-22s %-14s %s\n' "$n" "${r} ms" "${s} ms" "${h} ms" "$(awk -v s="$s" -v h="$h" 'BEGIN{printf "%.2f×", s/h}')"
done
