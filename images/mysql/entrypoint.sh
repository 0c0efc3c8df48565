#!/bin/bash
# specstudio/mysql entrypoint: MariaDB 10.11 (Debian bookworm) honouring the
# bitnami/mysql replication env contract. See images/mysql/README.md.
#
# Modes (MYSQL_REPLICATION_MODE): master | slave | "" (standalone).
# Data dir: /bitnami/mysql/data, initialised on first start only.
# The server is exec'd as PID 1 (clean, fast `docker stop`); everything it and
# this script print goes to stdout/stderr (`docker logs`). Password values are
# never printed. Health check inside the container: `mariadb-admin ping`.
set -euo pipefail

DATA_DIR=/bitnami/mysql/data
RUN_DIR=/run/mysqld
SOCKET="$RUN_DIR/mysqld.sock"
INIT_SOCKET="$RUN_DIR/init.sock"
PID_FILE="$RUN_DIR/mysqld.pid"
MARKER="$DATA_DIR/.specstudio-initialized"
IN_PROGRESS="$DATA_DIR/.specstudio-init-in-progress"
REPL_HASH_FILE="$DATA_DIR/.specstudio-replication.sha256"

# UTC timestamps with milliseconds, without forking `date` (a wake runs this
# script on every start: each fork costs milliseconds on a loaded host)
stamp() { local -x TZ=UTC; local t=$EPOCHREALTIME; printf -v STAMP '%(%Y-%m-%dT%H:%M:%S)T.%sZ' "${t%.*}" "${t:${#t}-6:3}"; }
log()  { stamp; printf '%s [entrypoint] %s\n' "$STAMP" "$*"; }
fail() { stamp; printf '%s [entrypoint] ERROR: %s\n' "$STAMP" "$*" >&2; exit 1; }

# ------------------------------------------------------------------ signals
# As PID 1, bash ignores SIGTERM unless trapped. Before the final exec, stop any
# temporary server and leave.
TMP_SERVER_PID=""
on_signal() {
    log "signal received during start-up; exiting"
    if [[ -n "$TMP_SERVER_PID" ]]; then kill -TERM "$TMP_SERVER_PID" 2>/dev/null || true; wait "$TMP_SERVER_PID" 2>/dev/null || true; fi
    exit 143
}
trap on_signal TERM INT

# ------------------------------------------------------------------ env (+ _FILE)
ENV_VARS=(
    MYSQL_REPLICATION_MODE MYSQL_REPLICATION_USER MYSQL_REPLICATION_PASSWORD
    MYSQL_MASTER_HOST MYSQL_MASTER_PORT_NUMBER MYSQL_MASTER_ROOT_USER MYSQL_MASTER_ROOT_PASSWORD
    MYSQL_MASTER_DELAY MYSQL_MASTER_WAIT_TIMEOUT MYSQL_REPLICATION_SLAVE_DUMP
    MYSQL_ROOT_USER MYSQL_ROOT_PASSWORD MYSQL_USER MYSQL_PASSWORD MYSQL_DATABASE
    MYSQL_CHARACTER_SET MYSQL_COLLATE MYSQL_SERVER_ID MYSQL_PORT_NUMBER MYSQL_EXTRA_FLAGS
    ALLOW_EMPTY_PASSWORD
)
for var in "${ENV_VARS[@]}"; do
    file_var="${var}_FILE"
    if [[ -n "${!file_var:-}" ]]; then
        [[ -r "${!file_var}" ]] || fail "$file_var points to '${!file_var}', which is not a readable file"
        [[ -z "${!var:-}" ]] || log "both $var and $file_var are set; using $file_var"
        printf -v "$var" '%s' "$(< "${!file_var}")"
        export "${var?}"
    fi
done

MODE="${MYSQL_REPLICATION_MODE:-}"
REPL_USER="${MYSQL_REPLICATION_USER:-}"
REPL_PASSWORD="${MYSQL_REPLICATION_PASSWORD:-}"
MASTER_HOST="${MYSQL_MASTER_HOST:-}"
MASTER_PORT="${MYSQL_MASTER_PORT_NUMBER:-3306}"
MASTER_ROOT_USER="${MYSQL_MASTER_ROOT_USER:-root}"
MASTER_ROOT_PASSWORD="${MYSQL_MASTER_ROOT_PASSWORD:-}"
MASTER_DELAY="${MYSQL_MASTER_DELAY:-0}"
MASTER_WAIT_TIMEOUT="${MYSQL_MASTER_WAIT_TIMEOUT:-120}"
ROOT_USER="${MYSQL_ROOT_USER:-root}"
ROOT_PASSWORD="${MYSQL_ROOT_PASSWORD:-}"
APP_USER="${MYSQL_USER:-}"
APP_PASSWORD="${MYSQL_PASSWORD:-}"
APP_DATABASE="${MYSQL_DATABASE:-}"
CHARSET="${MYSQL_CHARACTER_SET:-utf8mb4}"
COLLATE="${MYSQL_COLLATE:-}"
PORT="${MYSQL_PORT_NUMBER:-3306}"
ALLOW_EMPTY="${ALLOW_EMPTY_PASSWORD:-no}"
case "${ALLOW_EMPTY,,}" in yes|true|1) ALLOW_EMPTY=yes ;; *) ALLOW_EMPTY=no ;; esac

# ------------------------------------------------------------------ validation
errors=0
verr() { stamp; printf '%s [entrypoint] ERROR: %s\n' "$STAMP" "$*" >&2; errors=1; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
empty_pw() { verr "$1 is empty or not set. Set ALLOW_EMPTY_PASSWORD=yes to allow blank passwords (development only)."; }

case "$MODE" in
    master|slave|"") ;;
    *) fail "invalid MYSQL_REPLICATION_MODE='$MODE': use 'master', 'slave', or leave it empty for a standalone server" ;;
esac
is_uint "$PORT" && (( PORT >= 1 && PORT <= 65535 )) || verr "MYSQL_PORT_NUMBER must be a TCP port number (got '$PORT')"

if [[ "$MODE" == slave ]]; then
    [[ -n "$MASTER_HOST" ]] || verr "MYSQL_REPLICATION_MODE=slave requires MYSQL_MASTER_HOST (where the master runs)"
    [[ -n "$REPL_USER" ]] || verr "MYSQL_REPLICATION_MODE=slave requires MYSQL_REPLICATION_USER (the master's replication account)"
    is_uint "$MASTER_PORT" && (( MASTER_PORT >= 1 && MASTER_PORT <= 65535 )) || verr "MYSQL_MASTER_PORT_NUMBER must be a TCP port number (got '$MASTER_PORT')"
    is_uint "$MASTER_DELAY" || verr "MYSQL_MASTER_DELAY must be a number of seconds"
    is_uint "$MASTER_WAIT_TIMEOUT" || verr "MYSQL_MASTER_WAIT_TIMEOUT must be a number of seconds"
    if [[ "$ALLOW_EMPTY" != yes ]]; then
        [[ -n "$REPL_PASSWORD" ]] || empty_pw MYSQL_REPLICATION_PASSWORD
    fi
else
    if [[ "$ALLOW_EMPTY" == yes ]]; then
        log "WARNING: ALLOW_EMPTY_PASSWORD=yes: blank passwords allowed; do not use this in production"
    else
        [[ -n "$ROOT_PASSWORD" ]] || empty_pw MYSQL_ROOT_PASSWORD
        [[ -z "$APP_USER" || -n "$APP_PASSWORD" ]] || empty_pw MYSQL_PASSWORD
        [[ "$MODE" != master || -z "$REPL_USER" || -n "$REPL_PASSWORD" ]] || empty_pw MYSQL_REPLICATION_PASSWORD
    fi
    if [[ "$MODE" == master ]] && (( ${#ROOT_PASSWORD} > 32 )); then
        verr "MYSQL_ROOT_PASSWORD can not be longer than 32 characters in master mode (it has ${#ROOT_PASSWORD})"
    fi
    [[ "$APP_USER" != root ]] || verr "MYSQL_USER=root is not allowed: root already exists (use MYSQL_ROOT_PASSWORD)"
    [[ -n "$ROOT_USER" ]] || verr "MYSQL_ROOT_USER must not be empty"
fi
for v in MYSQL_ROOT_PASSWORD MYSQL_PASSWORD MYSQL_REPLICATION_PASSWORD MYSQL_MASTER_ROOT_PASSWORD; do
    [[ "${!v:-}" != *\\* ]] || verr "$v must not contain backslashes"
done
if [[ -n "${MYSQL_SERVER_ID:-}" ]]; then
    is_uint "$MYSQL_SERVER_ID" && (( MYSQL_SERVER_ID >= 1 && MYSQL_SERVER_ID <= 4294967295 )) \
        || verr "MYSQL_SERVER_ID must be an integer in 1..4294967295 (got '$MYSQL_SERVER_ID')"
fi
(( errors == 0 )) || exit 1
if [[ "${MYSQL_REPLICATION_SLAVE_DUMP:-false}" == true ]]; then
    log "note: MYSQL_REPLICATION_SLAVE_DUMP=true is not needed here and is ignored: replicas catch up from the master's complete binlog via GTID"
fi

# ------------------------------------------------------------------ server id
read -r HOSTNAME_NOW < /proc/sys/kernel/hostname 2>/dev/null || HOSTNAME_NOW="$(uname -n)"
if [[ -n "${MYSQL_SERVER_ID:-}" ]]; then
    SERVER_ID="$MYSQL_SERVER_ID"; SERVER_ID_SRC="MYSQL_SERVER_ID"
else
    # stable per hostname (a container keeps its hostname across restarts):
    # CRC32 of the hostname mapped into 1..4294967295
    crc=$(printf '%s' "$HOSTNAME_NOW" | cksum); crc=${crc%% *}
    SERVER_ID=$(( crc % 4294967294 + 1 )); SERVER_ID_SRC="hash of hostname '$HOSTNAME_NOW'"
fi

# ------------------------------------------------------------------ SQL helpers
sql_str()   { local s=${1//\\/\\\\}; s=${s//\'/\'\'}; printf "'%s'" "$s"; }   # 'literal'
sql_ident() { local s=${1//\`/\`\`}; printf '`%s`' "$s"; }                   # `identifier`
sql_grant_db() { local s=${1//\`/\`\`}; s=${s//_/\\_}; s=${s//%/\\%}; printf '`%s`' "$s"; }

AS_ROOT=0; [[ $EUID -eq 0 ]] && AS_ROOT=1
USER_ARGS=(); (( AS_ROOT )) && USER_ARGS=(--user=mysql)

# common server options (also used by the temporary init server)
BASE_ARGS=(--no-defaults "${USER_ARGS[@]}" --datadir="$DATA_DIR" --pid-file="$PID_FILE"
    --character-set-server="$CHARSET" --skip-name-resolve --expire-logs-days=0)
[[ -n "$COLLATE" ]] && BASE_ARGS+=(--collation-server="$COLLATE")
[[ -z "$COLLATE" && "$CHARSET" == utf8mb4 ]] && BASE_ARGS+=(--collation-server=utf8mb4_general_ci)
REPL_ARGS=()
case "$MODE" in
    master) REPL_ARGS=(--server-id="$SERVER_ID" --log-bin=mysql-bin --binlog-format=ROW --sync-binlog=1
                       --report-host="$HOSTNAME_NOW" --skip-slave-start) ;;
    slave)  REPL_ARGS=(--server-id="$SERVER_ID" --log-bin=mysql-bin --binlog-format=ROW
                       --read-only=1 --log-slave-updates --relay-log=relay-bin --skip-slave-start
                       --slave-net-timeout=10 --report-host="$HOSTNAME_NOW") ;;
    "")     REPL_ARGS=(--server-id="$SERVER_ID" --skip-slave-start) ;;
esac

# ------------------------------------------------------------------ temporary server (socket only)
tmp_server_log="$RUN_DIR/init-server.log"
start_tmp_server() {
    mariadbd "${BASE_ARGS[@]}" "${REPL_ARGS[@]}" --skip-networking --socket="$INIT_SOCKET" \
        --skip-grant-tables >"$tmp_server_log" 2>&1 &
    TMP_SERVER_PID=$!
    local _
    for _ in $(seq 1 300); do
        if mariadb-admin --no-defaults --socket="$INIT_SOCKET" -uroot ping >/dev/null 2>&1; then return 0; fi
        kill -0 "$TMP_SERVER_PID" 2>/dev/null || { cat "$tmp_server_log" >&2; fail "temporary server exited during start-up"; }
        sleep 0.1
    done
    cat "$tmp_server_log" >&2; fail "temporary server did not start within 30 s"
}
stop_tmp_server() {
    # SIGTERM = normal shutdown; `mariadb-admin shutdown` would add a 1 s pid-file poll
    kill -TERM "$TMP_SERVER_PID" 2>/dev/null || true
    wait "$TMP_SERVER_PID" 2>/dev/null || true
    TMP_SERVER_PID=""
    rm -f "$tmp_server_log"
}
# run SQL from stdin on the temporary server (one session)
tmp_sql() { mariadb --no-defaults --socket="$INIT_SOCKET" -uroot --batch --skip-column-names; }
# mysql_native_password hash, so clear passwords never reach the binlog
pw_hash() { printf 'SELECT PASSWORD(%s);\n' "$(sql_str "$1")" | tmp_sql; }

# ------------------------------------------------------------------ data dir
log "mode=${MODE:-standalone} server_id=$SERVER_ID ($SERVER_ID_SRC) port=$PORT datadir=$DATA_DIR uid=$EUID"
[[ -d "$DATA_DIR" && -d "$RUN_DIR" ]] || mkdir -p "$DATA_DIR" "$RUN_DIR" 2>/dev/null || true
[[ -w "$DATA_DIR" || $AS_ROOT -eq 1 ]] || fail "$DATA_DIR is not writable by uid $EUID"
[[ -w "$RUN_DIR" || $AS_ROOT -eq 1 ]] || fail "$RUN_DIR is not writable by uid $EUID"
if (( AS_ROOT )); then chown mysql:root "$DATA_DIR" "$RUN_DIR"; chmod 0770 "$DATA_DIR"; fi
rm -f "$RUN_DIR"/mysqld.sock* "$RUN_DIR"/init.sock* "$PID_FILE"

if [[ -e "$IN_PROGRESS" ]]; then
    log "previous initialisation did not finish; wiping $DATA_DIR and starting over"
    find "$DATA_DIR" -mindepth 1 -delete
fi

REPL_HASH=""
if [[ "$MODE" == slave ]]; then
    REPL_HASH=$(printf '%s\n' "$MASTER_HOST" "$MASTER_PORT" "$REPL_USER" "$REPL_PASSWORD" "$MASTER_DELAY" | sha256sum | cut -d' ' -f1)
fi

change_master_sql() {
    cat <<EOF
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST=$(sql_str "$MASTER_HOST"), MASTER_PORT=$MASTER_PORT,
  MASTER_USER=$(sql_str "$REPL_USER"), MASTER_PASSWORD=$(sql_str "$REPL_PASSWORD"),
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=$MASTER_DELAY;
EOF
}

wait_for_master() {
    log "waiting for master $MASTER_HOST:$MASTER_PORT to accept connections as '$MASTER_ROOT_USER' (timeout ${MASTER_WAIT_TIMEOUT}s)"
    local start=$SECONDS out last=""
    while :; do
        if out=$(MYSQL_PWD="$MASTER_ROOT_PASSWORD" mariadb --no-defaults --protocol=TCP -h "$MASTER_HOST" -P "$MASTER_PORT" \
                   -u "$MASTER_ROOT_USER" --connect-timeout=2 --batch --skip-column-names -e 'SELECT 1' 2>&1); then
            log "master is up (after $((SECONDS - start)) s)"
            return 0
        fi
        case "$out" in
            *"ERROR 1045"*|*"ERROR 1130"*|*"ERROR 1698"*)
                fail "master $MASTER_HOST:$MASTER_PORT is up but refused MYSQL_MASTER_ROOT_USER='$MASTER_ROOT_USER': ${out%% (using*} (check MYSQL_MASTER_ROOT_USER / MYSQL_MASTER_ROOT_PASSWORD)" ;;
        esac
        if (( SECONDS - start >= MASTER_WAIT_TIMEOUT )); then
            fail "master $MASTER_HOST:$MASTER_PORT did not accept connections within ${MASTER_WAIT_TIMEOUT} s (last error: ${out:-none})"
        fi
        if [[ "$out" != "$last" ]]; then log "master not ready yet: $out"; last="$out"; fi
        sleep 0.25
    done
}

if [[ -d "$DATA_DIR/mysql" ]]; then
    log "using persisted data in $DATA_DIR"
    if [[ "$MODE" == slave && -f "$MARKER" && "$(cat "$REPL_HASH_FILE" 2>/dev/null || true)" != "$REPL_HASH" ]]; then
        log "replication settings changed since last start; re-pointing replica at $MASTER_HOST:$MASTER_PORT"
        start_tmp_server
        change_master_sql | tmp_sql
        stop_tmp_server
        printf '%s\n' "$REPL_HASH" > "$REPL_HASH_FILE"
    fi
else
    [[ -z "$(find "$DATA_DIR" -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit)" ]] || fail "$DATA_DIR is not empty but holds no database (no mysql/ directory); refusing to initialise over it"
    : > "$IN_PROGRESS"
    log "initialising a new database in $DATA_DIR (mariadb-install-db)"
    if ! out=$(mariadb-install-db --no-defaults "${USER_ARGS[@]}" --datadir="$DATA_DIR" --skip-test-db \
                 --auth-root-authentication-method=socket 2>&1); then
        printf '%s\n' "$out" >&2; fail "mariadb-install-db failed"
    fi
    start_tmp_server
    # local-only clean-up (not binlogged): install-db adds a proxy grant for the
    # build-time/container hostname, which --skip-name-resolve warns about
    printf 'SET SESSION sql_log_bin=0; DELETE FROM mysql.proxies_priv WHERE Host NOT IN (%s);\n' "'localhost','127.0.0.1','::1','%'" | tmp_sql
    if [[ "$MODE" == slave ]]; then
        # Users, databases and data all arrive from the master: its binlog holds
        # everything since its first start, and an empty gtid_slave_pos makes the
        # replica read it from the very beginning.
        [[ -z "$APP_USER$APP_DATABASE" ]] || log "replica: MYSQL_USER/MYSQL_DATABASE are not created locally; they arrive via replication"
        [[ -z "$ROOT_PASSWORD" ]] || log "replica: MYSQL_ROOT_PASSWORD is ignored; root credentials arrive from the master via replication"
        log "configuring replication from $MASTER_HOST:$MASTER_PORT as '$REPL_USER' (GTID slave_pos)"
        change_master_sql | tmp_sql
        printf '%s\n' "$REPL_HASH" > "$REPL_HASH_FILE"
    else
        # master / standalone: create accounts with the binlog ON (master) so that
        # they replicate to every replica, including ones added later. Passwords
        # are turned into mysql_native_password hashes first (separate sessions,
        # before FLUSH PRIVILEGES turns authentication on), so clear-text
        # passwords never reach the binlog.
        root_id=""; repl_id=""; app_id=""; root_hash=""
        if [[ -n "$ROOT_PASSWORD" ]]; then root_hash=$(pw_hash "$ROOT_PASSWORD"); root_id=" IDENTIFIED BY PASSWORD '$root_hash'"; fi
        [[ -z "$REPL_PASSWORD" ]] || repl_id=" IDENTIFIED BY PASSWORD '$(pw_hash "$REPL_PASSWORD")'"
        [[ -z "$APP_PASSWORD" ]] || app_id=" IDENTIFIED BY PASSWORD '$(pw_hash "$APP_PASSWORD")'"
        init_sql="FLUSH LOCAL PRIVILEGES;"$'\n'
        add() { init_sql+="$*"$'\n'; }
        if [[ "$ROOT_USER" == root ]]; then
            [[ -z "$root_hash" ]] || add "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING '$root_hash' OR unix_socket;"
        else
            add "CREATE OR REPLACE USER $(sql_str "$ROOT_USER")@'localhost'$root_id;"
            add "GRANT ALL PRIVILEGES ON *.* TO $(sql_str "$ROOT_USER")@'localhost' WITH GRANT OPTION;"
        fi
        add "CREATE OR REPLACE USER $(sql_str "$ROOT_USER")@'%'$root_id;"
        add "GRANT ALL PRIVILEGES ON *.* TO $(sql_str "$ROOT_USER")@'%' WITH GRANT OPTION;"
        if [[ "$MODE" == master && -n "$REPL_USER" ]]; then
            add "CREATE OR REPLACE USER $(sql_str "$REPL_USER")@'%'$repl_id;"
            add "GRANT REPLICATION SLAVE ON *.* TO $(sql_str "$REPL_USER")@'%';"
        fi
        if [[ -n "$APP_DATABASE" ]]; then
            add "CREATE DATABASE IF NOT EXISTS $(sql_ident "$APP_DATABASE") CHARACTER SET $(sql_str "$CHARSET")${COLLATE:+ COLLATE $(sql_str "$COLLATE")};"
        fi
        if [[ -n "$APP_USER" ]]; then
            add "CREATE OR REPLACE USER $(sql_str "$APP_USER")@'%'$app_id;"
            [[ -z "$APP_DATABASE" ]] || add "GRANT ALL PRIVILEGES ON $(sql_grant_db "$APP_DATABASE").* TO $(sql_str "$APP_USER")@'%';"
        fi
        shopt -s nullglob
        init_scripts=(/docker-entrypoint-initdb.d/*.sql /docker-entrypoint-initdb.d/*.sql.gz)
        shopt -u nullglob
        {
            printf '%s' "$init_sql"
            for f in "${init_scripts[@]}"; do
                log "running init script $f" >&2
                [[ -z "$APP_DATABASE" ]] || echo "USE $(sql_ident "$APP_DATABASE");"
                case "$f" in *.gz) zcat "$f" ;; *) cat "$f" ;; esac
                echo ";"
            done
        } | tmp_sql || { stop_tmp_server; fail "creating the initial accounts/database failed"; }
        log "created ${ROOT_USER}@%${REPL_USER:+, replication user $REPL_USER}${APP_USER:+, user $APP_USER}${APP_DATABASE:+, database $APP_DATABASE}"
    fi
    stop_tmp_server
    # a replica waits (bounded) for its master during its first start
    [[ "$MODE" != slave ]] || wait_for_master
    : > "$MARKER"
    rm -f "$IN_PROGRESS"
    log "initialisation complete"
fi

# ------------------------------------------------------------------ exec the server
ARGS=("${BASE_ARGS[@]}" "${REPL_ARGS[@]}" --port="$PORT" --bind-address=0.0.0.0 --socket="$SOCKET")
if [[ "$MODE" == slave ]]; then
    printf 'START SLAVE;\n' > "$RUN_DIR/start-slave.sql"
    ARGS+=(--init-file="$RUN_DIR/start-slave.sql")
fi
if [[ -n "${MYSQL_EXTRA_FLAGS:-}" ]]; then
    read -r -a extra <<< "$MYSQL_EXTRA_FLAGS"
    ARGS+=("${extra[@]}")
fi
log "exec mariadbd ${ARGS[*]}"
trap - TERM INT
exec mariadbd "${ARGS[@]}"
