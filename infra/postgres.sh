#!/usr/bin/env bash
# Private, throw-away PostgreSQL 15 cluster for the test suite, on 127.0.0.1 only.
#
#   infra/postgres.sh start   install PostgreSQL if needed, create the cluster on
#                             first use, start it, ensure role+database "parcours"
#   infra/postgres.sh stop    stop it (fast shutdown; succeeds if not running)
#   infra/postgres.sh status  exit 0 if running, 3 if not
#   infra/postgres.sh url     print the connection URL for the tests
#   infra/postgres.sh pid     print the postmaster's pid
#   infra/postgres.sh kill    SIGKILL the postmaster (fault tests; `start` recovers it)
#
# Settings (environment): PARCOURS_RUN_DIR (default <repo>/.run),
# PARCOURS_PG_PORT (55432), PARCOURS_PG_BIN (/usr/lib/postgresql/15/bin).
#
# Why a private cluster instead of the system one (pg_ctlcluster 15 main):
# it needs no sudo rules or system config, lives in the git-ignored run dir,
# uses its own port so it never clashes with a developer's own PostgreSQL,
# and can be wiped with `rm -rf .run/postgres`. Authentication is "trust" on
# loopback only, so no password exists anywhere.
set -euo pipefail

LOG_TAG=postgres
# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

PG_BIN="${PARCOURS_PG_BIN:-/usr/lib/postgresql/15/bin}"
STATE_DIR="$PARCOURS_RUN_DIR/postgres"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/log"
LOG_FILE="$LOG_DIR/postgres.log"
SOCKET_DIR="$STATE_DIR/socket"
DB_NAME=parcours
DB_ROLE=parcours
START_TIMEOUT=60
# PostgreSQL refuses to run as root; as root we act as this OS user instead.
PG_OS_USER=postgres

URL="postgresql://$DB_ROLE@$PARCOURS_HOST:$PARCOURS_PG_PORT/$DB_NAME"

# ---------------------------------------------------------------- helpers

# Run a server-side tool (initdb, pg_ctl) as the user owning the cluster.
# `cd /` because the caller's cwd (e.g. /root) may be closed to that user.
as_owner() {
    if is_root; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

# Superuser SQL from stdin, over TCP (trust auth), so it works the same as root or not.
# -X ignores any ~/.psqlrc that could change the output.
psql_admin() {
    PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PARCOURS_HOST" -p "$PARCOURS_PG_PORT" -U postgres -d postgres
}

ensure_binaries() {
    local missing=() tool
    for tool in postgres initdb pg_ctl pg_isready psql; do
        [[ -x "$PG_BIN/$tool" ]] || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) && return 0
    info "PostgreSQL server binaries not found in $PG_BIN (missing: ${missing[*]})."
    # Debian 12's "postgresql" package is PostgreSQL 15. Its install may also
    # create (and start) the system cluster on port 5432; we never use it.
    apt_install postgresql
    for tool in postgres initdb pg_ctl pg_isready psql; do
        [[ -x "$PG_BIN/$tool" ]] ||
            die "After installing postgresql, $PG_BIN/$tool is still missing." \
                "This system's postgresql package is probably not version 15: set" \
                "PARCOURS_PG_BIN to its bin dir (e.g. /usr/lib/postgresql/16/bin) and re-run."
    done
}

# As root, the cluster belongs to the "postgres" OS user, who must be able to
# reach the run dir: every parent directory needs the x (search) bit for it.
# The repo may live under /root or a 0700 temp dir, so grant o+x where
# missing (search only, not listing), and say so.
prepare_dirs_for_owner() {
    mkdir -p "$STATE_DIR" "$LOG_DIR" "$SOCKET_DIR"
    if ! is_root; then
        return 0
    fi
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
        die "PostgreSQL refuses to run as root, and there is no '$PG_OS_USER' OS user to run it as." \
            "Reinstall the postgresql package (it creates that user) or run this script as a normal user."
    # Top-down, so that a closed parent does not make its children look
    # closed too.
    local dir="$STATE_DIR" parents=()
    while [[ "$dir" != / ]]; do
        dir="$(dirname "$dir")"
        parents=("$dir" "${parents[@]}")
    done
    for dir in "${parents[@]}"; do
        if ! runuser -u "$PG_OS_USER" -- test -x "$dir" 2>/dev/null; then
            info "Letting the '$PG_OS_USER' user traverse $dir (chmod o+x) so it can reach its data dir."
            chmod o+x "$dir"
        fi
    done
    chown -R "$PG_OS_USER:" "$STATE_DIR"
}

# pg_ctl status: 0 running, 3 not running, 4 no usable data dir.
is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] || return 1
    as_owner "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

# Port the running server was started with (4th line of postmaster.pid).
running_port() {
    sed -n 4p "$DATA_DIR/postmaster.pid" 2>/dev/null || true
}

init_cluster() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
    # C.UTF-8 sorts like C (fast, stable across machines) but still knows
    # upper/lower case of non-ASCII letters; plain C is the fallback.
    local locale=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale=C.UTF-8
    fi
    info "Creating a private cluster in ${DATA_DIR#"$PARCOURS_ROOT"/} (locale $locale)..."
    rm -rf "$DATA_DIR"
    if ! as_owner "$PG_BIN/initdb" -D "$DATA_DIR" --auth=trust -U postgres \
        --encoding=UTF8 --locale="$locale" >"$LOG_DIR/initdb.log" 2>&1; then
        show_log_tail "$LOG_DIR/initdb.log" 40
        rm -rf "$DATA_DIR"
        die "initdb failed (output above, also in $LOG_DIR/initdb.log)." \
            "Fix the cause, then re-run infra/postgres.sh start."
    fi
}

start_server() {
    # Settings go on the command line, not into postgresql.conf, so a change
    # here applies to existing clusters at their next start.
    #  - listen on loopback only; unix socket inside the run dir, not /var/run
    #    (which may not exist or be writable); "" disables the socket when the
    #    path is too long for a unix socket (~107 bytes), TCP still works.
    #  - 200 connections: parallel test workers each keep a pool.
    local sock="$SOCKET_DIR"
    if ((${#sock} > 90)); then
        warn "Run dir path too long for a unix socket; PostgreSQL will accept TCP connections only."
        sock=""
    fi
    # pg_ctl passes -o through a shell, hence the single quotes.
    local opts="-p $PARCOURS_PG_PORT -c listen_addresses=$PARCOURS_HOST -k '$sock'"
    opts+=" -c max_connections=200 -c shared_buffers=128MB"
    opts+=" -c log_line_prefix='%m [%p] %q%u@%d '"
    if ! as_owner "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -o "$opts" \
        -w -t "$START_TIMEOUT" >/dev/null 9>&-; then
        show_log_tail "$LOG_FILE" 40
        die "PostgreSQL did not start (log above, full log in $LOG_FILE)." \
            "Fix the cause shown there, then re-run infra/postgres.sh start."
    fi
}

wait_ready() {
    local waited=0
    until "$PG_BIN/pg_isready" -q -h "$PARCOURS_HOST" -p "$PARCOURS_PG_PORT" -U postgres -d postgres -t 2; do
        if ((waited >= START_TIMEOUT)); then
            show_log_tail "$LOG_FILE" 40
            die "PostgreSQL is not accepting connections on $PARCOURS_HOST:$PARCOURS_PG_PORT after ${START_TIMEOUT} s." \
                "See the log above; infra/postgres.sh stop && infra/postgres.sh start may help."
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

# Idempotent: safe on every start, also repairs a start interrupted before
# this step. CREATEDB lets tests create and drop their own databases.
ensure_role_and_database() {
    psql_admin <<SQL || die "Could not create role/database '$DB_NAME' (psql error above)." \
        "Check $LOG_FILE; to start from scratch: infra/postgres.sh stop && rm -rf $STATE_DIR"
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
        CREATE ROLE $DB_ROLE LOGIN CREATEDB;
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_ROLE'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')
\gexec
SQL
}

# The read audit lives in schema "audit", owned by the role parcours_audit, which nobody logs
# in as. The application's role may only SELECT and INSERT there: it can neither drop the
# append-only trigger nor delete a record. Done in template1 too, so that every database the
# tests create (CREATE DATABASE copies template1) has it. Idempotent.
AUDIT_ROLE=parcours_audit
ensure_audit_schema() {
    local db
    psql_admin <<SQL || die "Could not create role '$AUDIT_ROLE' (psql error above)."
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$AUDIT_ROLE') THEN
        CREATE ROLE $AUDIT_ROLE NOLOGIN;
    END IF;
END
\$\$;
SQL
    for db in template1 "$DB_NAME"; do
        PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
            -h "$PARCOURS_HOST" -p "$PARCOURS_PG_PORT" -U postgres -d "$db" <<SQL ||
CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION $AUDIT_ROLE;
CREATE TABLE IF NOT EXISTS audit.read_audit (
    seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL,
    actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, territory TEXT, action TEXT NOT NULL,
    pathway_id TEXT NOT NULL, outcome TEXT NOT NULL, address TEXT,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS read_audit_pathway ON audit.read_audit (pathway_id, at);
CREATE OR REPLACE FUNCTION audit.append_only() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'the read audit is append-only'; END \$\$;
CREATE OR REPLACE TRIGGER read_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit.read_audit FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();
ALTER TABLE audit.read_audit OWNER TO $AUDIT_ROLE;
ALTER FUNCTION audit.append_only() OWNER TO $AUDIT_ROLE;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO $DB_ROLE;
REVOKE ALL ON audit.read_audit FROM PUBLIC;
GRANT SELECT, INSERT ON audit.read_audit TO $DB_ROLE;
SQL
            die "Could not create the audit schema in database '$db' (psql error above)."
    done
}

# ---------------------------------------------------------------- commands

cmd_start() {
    check_port PARCOURS_PG_PORT "$PARCOURS_PG_PORT"
    [[ "$PARCOURS_RUN_DIR" != *"'"* ]] ||
        die "PARCOURS_RUN_DIR contains a single quote, which pg_ctl cannot pass on." \
            "Use a path without quotes."
    ensure_binaries
    prepare_dirs_for_owner
    take_lock "$STATE_DIR/.lock"

    if is_running; then
        local port
        port="$(running_port)"
        if [[ -n "$port" && "$port" != "$PARCOURS_PG_PORT" ]]; then
            die "This cluster is already running on port $port, not $PARCOURS_PG_PORT." \
                "Stop it first (PARCOURS_PG_PORT=$port infra/postgres.sh stop), then start again."
        fi
        info "PostgreSQL is already running on $PARCOURS_HOST:$PARCOURS_PG_PORT."
    else
        if port_in_use "$PARCOURS_PG_PORT"; then
            die "Port $PARCOURS_PG_PORT on $PARCOURS_HOST is already used by another program." \
                "Stop that program, or pick a free port with PARCOURS_PG_PORT."
        fi
        init_cluster
        info "Starting PostgreSQL on $PARCOURS_HOST:$PARCOURS_PG_PORT (log ${LOG_FILE#"$PARCOURS_ROOT"/})..."
        start_server
    fi
    wait_ready
    ensure_role_and_database
    ensure_audit_schema
    info "PostgreSQL is ready: $URL"
}

cmd_stop() {
    if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
        info "PostgreSQL is not running (no cluster yet)."
        return 0
    fi
    take_lock "$STATE_DIR/.lock"
    if ! is_running; then
        info "PostgreSQL is not running."
        return 0
    fi
    info "Stopping PostgreSQL..."
    # fast: roll back open transactions and disconnect clients (tests may
    # have left connections open); -w waits until it is really down.
    if ! as_owner "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 60 >/dev/null; then
        show_log_tail "$LOG_FILE" 20
        die "PostgreSQL did not stop within 60 s." \
            "Try: $PG_BIN/pg_ctl stop -D $DATA_DIR -m immediate (as the '$PG_OS_USER' user when root)."
    fi
    info "PostgreSQL stopped."
}

# For the fault suite: the postmaster's pid (first line of postmaster.pid).
cmd_pid() {
    is_running || die "PostgreSQL is not running."
    sed -n 1p "$DATA_DIR/postmaster.pid"
}

# For the fault suite: SIGKILL the postmaster, as a crash would. Its backends notice and exit;
# `start` then recovers the cluster from its WAL.
cmd_kill() {
    local pid children child
    pid="$(cmd_pid)"
    # Its backends outlive it for a moment and hold the shared memory a restart needs.
    children="$(pgrep -P "$pid" || true)"
    kill -KILL "$pid"
    for child in $pid $children; do
        while kill -0 "$child" 2>/dev/null; do sleep 0.05; done
    done
    info "PostgreSQL postmaster (pid $pid) killed."
}

cmd_status() {
    if is_running; then
        info "PostgreSQL is running on $PARCOURS_HOST:$(running_port) (data ${DATA_DIR#"$PARCOURS_ROOT"/})."
        return 0
    fi
    info "PostgreSQL is not running."
    return 3
}

usage() {
    cat >&2 <<EOF
Usage: infra/postgres.sh start|stop|status|url

  start   start the private test cluster on $PARCOURS_HOST:$PARCOURS_PG_PORT (creating it on first use)
  stop    stop it (succeeds if it is not running)
  status  exit 0 if it is running, 3 if not
  pid     print the postmaster's pid
  kill    SIGKILL the postmaster (fault tests; \`start\` recovers it)
  url     print the connection URL: $URL
EOF
    exit 2
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    pid) cmd_pid ;;
    kill) cmd_kill ;;
    url) echo "$URL" ;;
    *) usage ;;
esac
