#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) for the test suite, on 127.0.0.1 only.
#
#   infra/kafka.sh install    fetch the broker jars from Maven Central (cached)
#   infra/kafka.sh start      install if needed, start the broker, wait until usable
#   infra/kafka.sh stop       stop it (SIGTERM, SIGKILL after 30 s)
#   infra/kafka.sh status     exit 0 if running, 3 if not
#   infra/kafka.sh bootstrap  print the bootstrap address (127.0.0.1:PORT)
#
# Settings (environment): PARCOURS_RUN_DIR (default <repo>/.run),
# PARCOURS_KAFKA_PORT (59092), PARCOURS_KAFKA_CONTROLLER_PORT (59093),
# PARCOURS_KAFKA_HEAP (1g), PARCOURS_KAFKA_START_TIMEOUT (120 s),
# PYTHON (default <repo>/.venv/bin/python, needs kafka-python; used to check
# readiness), JAVA_HOME (optional).
#
# Why no Kafka tarball: only package registries are reachable here, so the
# broker comes from Maven Central as plain jars (see infra/kafka/pom.xml) and
# is started with `java -cp ... kafka.Kafka`, which is all bin/kafka-server-start.sh does.
set -euo pipefail

LOG_TAG=kafka
# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

KAFKA_SRC_DIR="$INFRA_DIR/kafka"            # pom, templates (tracked)
POM="$KAFKA_SRC_DIR/pom.xml"
LIB_DIR="$KAFKA_SRC_DIR/lib"                 # jars (git-ignored, kept between runs)
STAMP="$LIB_DIR/.pom.sha256"                 # sha256 of the pom the jars came from
TEMPLATE="$KAFKA_SRC_DIR/server.properties.in"
LOG4J_CONFIG="$KAFKA_SRC_DIR/log4j2.yaml"

STATE_DIR="$PARCOURS_RUN_DIR/kafka"
PROPS="$STATE_DIR/server.properties"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/log"
LOG_FILE="$LOG_DIR/server.log"
PID_FILE="$STATE_DIR/kafka.pid"
# Which controller endpoint the data dir was formatted for (see format_storage).
FORMAT_STAMP="$STATE_DIR/formatted-for"

START_TIMEOUT="${PARCOURS_KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT=30
PYTHON="${PYTHON:-$PARCOURS_ROOT/.venv/bin/python}"
BOOTSTRAP="$PARCOURS_HOST:$PARCOURS_KAFKA_PORT"

kafka_version() {
    sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1
}

# ---------------------------------------------------------------- tools

java_bin() {
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        echo "$JAVA_HOME/bin/java"
    else
        command -v java || true
    fi
}

# Kafka 4 brokers need Java 17 or newer.
java_major() {
    "$1" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

ensure_java() {
    local java
    java="$(java_bin)"
    if [[ -z "$java" ]]; then
        apt_install openjdk-17-jre-headless
        java="$(java_bin)"
        [[ -n "$java" ]] || die "java is still not on PATH after installing openjdk-17-jre-headless." \
            "Put a Java 17+ 'java' on PATH (or set JAVA_HOME), then re-run."
    fi
    local major
    major="$(java_major "$java")"
    if [[ -z "$major" ]] || ((major < 17)); then
        die "$java is Java ${major:-of unknown version}; Kafka 4 needs Java 17 or newer." \
            "Install openjdk-17-jre-headless (apt-get install -y openjdk-17-jre-headless)" \
            "and put it first on PATH or set JAVA_HOME to it, then re-run."
    fi
    JAVA="$java"
}

ensure_maven() {
    if ! command -v mvn >/dev/null 2>&1; then
        apt_install maven openjdk-17-jre-headless
    fi
}

# ---------------------------------------------------------------- install

jars_up_to_date() {
    [[ -f "$STAMP" ]] || return 1
    [[ "$(cat "$STAMP")" == "$(sha256sum "$POM" | cut -d' ' -f1)" ]] || return 1
    compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_install() {
    ensure_java
    if jars_up_to_date; then
        info "Kafka $(kafka_version) jars are up to date in ${LIB_DIR#"$PARCOURS_ROOT"/}."
        return 0
    fi
    if broker_pid >/dev/null; then
        die "infra/kafka/pom.xml changed while the broker is running from the old jars." \
            "Run infra/kafka.sh stop first, then re-run this command."
    fi
    ensure_maven

    # Download into a staging folder and swap it in only when Maven succeeded,
    # so an interrupted or offline run never leaves a half-filled lib/. The
    # stamp is written last: without it the next run simply fetches again.
    local staging="$LIB_DIR/.staging" started=$SECONDS
    rm -rf "$staging"
    mkdir -p "$staging"
    info "Fetching Kafka $(kafka_version) jars (~45 MB) from Maven Central; the first run may take a minute or two..."
    info "  (Maven caches downloads in ~/.m2, so later fetches are quick.)"
    # Debian's Maven 3.8.7 prints stray colour-reset codes even in batch mode;
    # the sed strips them (pipefail keeps Maven's exit status).
    if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dkafka.lib.dir="$staging" \
        dependency:copy-dependencies 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'; then
        rm -rf "$staging"
        die "Maven could not fetch the Kafka jars (see its output above)." \
            "Check that Maven Central is reachable (or that ~/.m2/settings.xml names a working mirror)," \
            "then re-run: infra/kafka.sh install"
    fi
    compgen -G "$staging/kafka_2.13-*.jar" >/dev/null ||
        die "Maven finished but no kafka_2.13 jar arrived in $staging." \
            "Check infra/kafka/pom.xml, then re-run: infra/kafka.sh install"

    rm -f "$STAMP" "$LIB_DIR"/*.jar
    mv "$staging"/*.jar "$LIB_DIR"/
    rm -rf "$staging"
    sha256sum "$POM" | cut -d' ' -f1 >"$STAMP"
    local count size
    count="$(find "$LIB_DIR" -maxdepth 1 -name '*.jar' | wc -l)"
    size="$(du -sh "$LIB_DIR" | cut -f1)"
    info "Fetched $count jars ($size) in $((SECONDS - started)) s into ${LIB_DIR#"$PARCOURS_ROOT"/}."
}

# ---------------------------------------------------------------- process

# A pid is ours only if it is alive, not a zombie, and really our broker
# (pid files outlive reboots and crashes; pids get reused).
is_our_broker() {
    local pid="$1" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)"
    [[ "$state" != Z ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS"
}

# Prints the running broker's pid; fails (and forgets a stale pid file) if none.
broker_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    if is_our_broker "$pid"; then
        echo "$pid"
        return 0
    fi
    rm -f "$PID_FILE"
    return 1
}

# Max heap from PARCOURS_KAFKA_HEAP (e.g. 1g, 768m); the initial heap is
# 256 MiB, or the max heap if that is smaller (the JVM refuses Xms > Xmx).
heap_flags() {
    local heap="$PARCOURS_KAFKA_HEAP" num unit mib
    if ! [[ "$heap" =~ ^([0-9]+)([mMgG])$ ]]; then
        die "PARCOURS_KAFKA_HEAP=$heap is not a heap size like 1g or 768m." \
            "Set it to a number followed by m or g (the default is 1g)."
    fi
    num="${BASH_REMATCH[1]}"
    unit="${BASH_REMATCH[2],,}"
    mib=$num
    [[ "$unit" == g ]] && mib=$((num * 1024))
    ((mib >= 128)) || die "PARCOURS_KAFKA_HEAP=$heap is too small for a Kafka broker." \
        "Use at least 128m (the default is 1g)."
    local initial=256
    ((mib < initial)) && initial=$mib
    echo "-Xmx${mib}m -Xms${initial}m"
}

ensure_python() {
    [[ -x "$PYTHON" ]] ||
        die "No Python at $PYTHON to check that Kafka is ready." \
            "Create the project venv at .venv (it has kafka-python) as the README says," \
            "or point PYTHON at an interpreter that has kafka-python installed."
    "$PYTHON" -c 'import kafka' 2>/dev/null ||
        die "$PYTHON cannot import kafka (kafka-python), which the readiness check uses." \
            "Install it: $PYTHON -m pip install kafka-python" \
            "or point PYTHON at an interpreter that has it."
}

render_properties() {
    local line
    mkdir -p "$STATE_DIR" "$DATA_DIR" "$LOG_DIR"
    # Plain bash substitution (no sed): paths may contain any character sed
    # would treat specially.
    {
        echo "# Generated by infra/kafka.sh from infra/kafka/server.properties.in; do not edit."
        while IFS= read -r line || [[ -n "$line" ]]; do
            line="${line//@HOST@/$PARCOURS_HOST}"
            line="${line//@PORT@/$PARCOURS_KAFKA_PORT}"
            line="${line//@CONTROLLER_PORT@/$PARCOURS_KAFKA_CONTROLLER_PORT}"
            line="${line//@DATA_DIR@/$DATA_DIR}"
            printf '%s\n' "$line"
        done <"$TEMPLATE"
    } >"$PROPS.tmp"
    mv "$PROPS.tmp" "$PROPS"
}

kafka_tool() {
    "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
        -cp "$LIB_DIR/*" kafka.tools.StorageTool "$@"
}

# Features the data dir is formatted with. Eligible leader replicas are off: with them, this
# one-node cluster elected each partition's leader UNCLEAN (from its last known ELR) on every
# restart after a kill -9, which the fault tests do on purpose.
FEATURES=(eligible.leader.replicas.version=0)

# KRaft needs the data dir formatted once with a cluster id. With --standalone
# the controller endpoint is written into the metadata log as the only voter,
# so a data dir formatted for another controller port or other features is re-created rather
# than reused (it only ever holds throw-away test data).
format_storage() {
    local want="controller=$PARCOURS_HOST:$PARCOURS_KAFKA_CONTROLLER_PORT node.id=1 features=${FEATURES[*]}"
    if [[ -f "$DATA_DIR/meta.properties" ]]; then
        if [[ "$(cat "$FORMAT_STAMP" 2>/dev/null || true)" == "$want" ]]; then
            return 0
        fi
        info "The data dir was formatted for another controller endpoint or features; re-creating it (test data only)."
        rm -rf "$DATA_DIR"
        mkdir -p "$DATA_DIR"
    fi
    local cluster_id out
    cluster_id="$(kafka_tool random-uuid 2>>"$LOG_FILE" | tail -n1)"
    # A Kafka cluster id is a UUID in 22 characters of URL-safe base64.
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || {
        show_log_tail "$LOG_FILE" 40
        die "kafka.tools.StorageTool random-uuid gave no cluster id (got '$cluster_id')." \
            "See the log above; re-running infra/kafka.sh install may help if jars are damaged."
    }
    info "Formatting $DATA_DIR (cluster id $cluster_id)..."
    local feature_flags=() feature
    for feature in "${FEATURES[@]}"; do feature_flags+=(--feature "$feature"); done
    if ! out="$(kafka_tool format --standalone -t "$cluster_id" -c "$PROPS" "${feature_flags[@]}" 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "Formatting the Kafka data dir failed (output above)." \
            "Delete $DATA_DIR and re-run infra/kafka.sh start; if it fails again, check $PROPS."
    fi
    echo "$want" >"$FORMAT_STAMP"
}

# Runs infra/wait_kafka.py; it also watches the broker pid so a crash during
# startup is reported at once instead of after the full timeout.
wait_ready() {
    local pid="$1" timeout="$2" rc=0
    "$PYTHON" "$INFRA_DIR/wait_kafka.py" "$BOOTSTRAP" --timeout "$timeout" --pid "$pid" || rc=$?
    return "$rc"
}

# ---------------------------------------------------------------- commands

cmd_start() {
    check_port PARCOURS_KAFKA_PORT "$PARCOURS_KAFKA_PORT"
    check_port PARCOURS_KAFKA_CONTROLLER_PORT "$PARCOURS_KAFKA_CONTROLLER_PORT"
    [[ "$PARCOURS_KAFKA_PORT" != "$PARCOURS_KAFKA_CONTROLLER_PORT" ]] ||
        die "PARCOURS_KAFKA_PORT and PARCOURS_KAFKA_CONTROLLER_PORT are both $PARCOURS_KAFKA_PORT." \
            "Give them different values."
    [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] ||
        die "PARCOURS_KAFKA_START_TIMEOUT=$START_TIMEOUT is not a number of seconds." "Unset it or set e.g. 120."
    local heap
    heap="$(heap_flags)"
    ensure_python
    take_lock "$STATE_DIR/.lock"

    local pid rc=0
    if pid="$(broker_pid)"; then
        info "Kafka is already running (pid $pid) on $BOOTSTRAP; checking that it answers..."
        wait_ready "$pid" "$START_TIMEOUT" || rc=$?
        ((rc == 0)) && return 0
        show_log_tail "$LOG_FILE" 40
        die "The running broker (pid $pid) does not answer on $BOOTSTRAP." \
            "Restart it: infra/kafka.sh stop && infra/kafka.sh start"
    fi

    cmd_install
    for port in "$PARCOURS_KAFKA_PORT" "$PARCOURS_KAFKA_CONTROLLER_PORT"; do
        if port_in_use "$port"; then
            die "Port $port on $PARCOURS_HOST is already used by another program." \
                "Stop that program, or pick free ports with PARCOURS_KAFKA_PORT / PARCOURS_KAFKA_CONTROLLER_PORT."
        fi
    done

    render_properties
    # Keep the previous run's log for post-mortems, start a fresh one.
    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
    : >"$LOG_FILE"
    format_storage

    info "Starting Kafka $(kafka_version) on $BOOTSTRAP (heap ${PARCOURS_KAFKA_HEAP}, log ${LOG_FILE#"$PARCOURS_ROOT"/})..."
    # setsid + nohup: the broker must outlive this script and not receive the
    # terminal's Ctrl-C or the caller's hangup. `9>&-` keeps our lock fd out
    # of it. Neither setsid nor nohup forks here, so $! is the JVM's pid.
    # shellcheck disable=SC2086  # $heap is two flags on purpose
    setsid nohup "$JAVA" $heap \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
        -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$LIB_DIR/*" kafka.Kafka "$PROPS" \
        >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"

    local started=$SECONDS
    info "Waiting for Kafka to accept topic creation (up to ${START_TIMEOUT} s)..."
    wait_ready "$pid" "$START_TIMEOUT" || rc=$?
    case "$rc" in
        0)
            info "Kafka is ready on $BOOTSTRAP (pid $pid, $((SECONDS - started)) s)."
            ;;
        3)
            rm -f "$PID_FILE"
            show_log_tail "$LOG_FILE" 40
            die "The Kafka broker exited during startup (log above, full log in $LOG_FILE)." \
                "Fix the cause shown there, then re-run infra/kafka.sh start."
            ;;
        *)
            show_log_tail "$LOG_FILE" 40
            info "Stopping the broker that did not become ready..."
            stop_pid "$pid"
            die "Kafka did not become ready within ${START_TIMEOUT} s (log above, full log in $LOG_FILE)." \
                "On a slow machine raise PARCOURS_KAFKA_START_TIMEOUT; otherwise fix the cause in the log and re-run."
            ;;
    esac
}

# SIGTERM triggers Kafka's controlled shutdown (flushes logs, closes cleanly);
# SIGKILL only if that hangs.
stop_pid() {
    local pid="$1" waited=0
    kill -TERM "$pid" 2>/dev/null || true
    while is_our_broker "$pid"; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            warn "Kafka (pid $pid) did not stop within ${STOP_TIMEOUT} s; killing it."
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
}

cmd_stop() {
    take_lock "$STATE_DIR/.lock"
    local pid
    if ! pid="$(broker_pid)"; then
        info "Kafka is not running."
        return 0
    fi
    info "Stopping Kafka (pid $pid)..."
    stop_pid "$pid"
    info "Kafka stopped."
}

# For the fault suite: SIGKILL the broker, as a crash would; `start` recovers its logs.
cmd_kill() {
    local pid
    pid="$(broker_pid)" || die "Kafka is not running."
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$PID_FILE"
    info "Kafka broker (pid $pid) killed."
}

cmd_status() {
    local pid
    if pid="$(broker_pid)"; then
        if port_in_use "$PARCOURS_KAFKA_PORT"; then
            info "Kafka is running (pid $pid) on $BOOTSTRAP."
        else
            info "Kafka is running (pid $pid) but not (yet) listening on $BOOTSTRAP."
        fi
        return 0
    fi
    info "Kafka is not running."
    return 3
}

usage() {
    cat >&2 <<EOF
Usage: infra/kafka.sh install|start|stop|status|bootstrap

  install    fetch the Kafka $(kafka_version) jars into infra/kafka/lib (skipped when up to date)
  start      install if needed, start a single-node broker on $BOOTSTRAP, wait until ready
  stop       stop the broker (succeeds if it is not running)
  status     exit 0 if the broker is running, 3 if not
  pid        print the broker's pid
  kill       SIGKILL the broker (fault tests; start recovers it)
  bootstrap  print the bootstrap servers string ($BOOTSTRAP)
EOF
    exit 2
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    pid) broker_pid ;;
    kill) cmd_kill ;;
    bootstrap) echo "$BOOTSTRAP" ;;
    *) usage ;;
esac
