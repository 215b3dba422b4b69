# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings below are used by the scripts that source this file
# Shared settings and helpers for infra/postgres.sh and infra/kafka.sh.
# Sourced, never run: the caller has already done `set -euo pipefail`.
#
# Every setting is an environment variable with a default, so CI, a developer
# and a clean clone in /tmp all work without any configuration.

# The repo root is found from this file's location, not from the current
# directory, so the scripts work when called from anywhere.
PARCOURS_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
INFRA_DIR="$PARCOURS_ROOT/infra"

# Data, logs and pid files of the throw-away test services (git-ignored).
PARCOURS_RUN_DIR="${PARCOURS_RUN_DIR:-$PARCOURS_ROOT/.run}"

PARCOURS_PG_PORT="${PARCOURS_PG_PORT:-55432}"
PARCOURS_KAFKA_PORT="${PARCOURS_KAFKA_PORT:-59092}"
PARCOURS_KAFKA_CONTROLLER_PORT="${PARCOURS_KAFKA_CONTROLLER_PORT:-59093}"
PARCOURS_KAFKA_HEAP="${PARCOURS_KAFKA_HEAP:-1g}"

# Services listen on loopback only; this is not meant to be configurable.
PARCOURS_HOST=127.0.0.1

# A short tag in front of every message says which script is talking.
LOG_TAG="${LOG_TAG:-infra}"

info() { printf '[%s] %s\n' "$LOG_TAG" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$LOG_TAG" "$*" >&2; }
# die MESSAGE... : each argument is printed on its own line, so the last ones
# can say what to do about it.
die() {
    local first=1 line
    for line in "$@"; do
        if ((first)); then
            printf '[%s] ERROR: %s\n' "$LOG_TAG" "$line" >&2
            first=0
        else
            printf '[%s]        %s\n' "$LOG_TAG" "$line" >&2
        fi
    done
    exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Ports come from the environment; reject junk early with a clear message
# rather than letting a server fail with a cryptic one.
check_port() {
    local name="$1" value="$2"
    if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value < 1024 || value > 65535)); then
        die "$name=$value is not a usable TCP port." \
            "Set $name to a free port number between 1024 and 65535."
    fi
}

# True when something accepts TCP connections on 127.0.0.1:PORT. Uses bash's
# /dev/tcp so it needs no extra tool (ss/netstat/nc may be absent).
port_in_use() {
    (exec 3<>"/dev/tcp/$PARCOURS_HOST/$1") 2>/dev/null
}

# apt_install PKG... : install Debian packages when we are root, otherwise
# explain what to install and stop. `apt-get update` runs first because a
# fresh machine may have no package lists at all.
apt_install() {
    if ! is_root; then
        die "Missing: $*." \
            "Install it as root, then re-run:" \
            "  sudo apt-get update && sudo apt-get install -y $*"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "Missing: $*, and this is not a Debian/Ubuntu system (no apt-get)." \
            "Install the equivalent packages with your system's package manager, then re-run."
    info "Installing $* with apt-get (one-time setup)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq ||
        die "apt-get update failed." "Check network access to the Debian mirrors, then re-run."
    apt-get install -y -qq --no-install-recommends "$@" ||
        die "apt-get install $* failed." "Read the apt output above, fix the cause, then re-run."
}

# Lock a service's state dir so two concurrent start/stop calls (for example
# parallel test workers) cannot race each other. Waits up to 5 minutes, since
# the other caller may be doing a first-time install.
# Note: children that outlive the script (the servers) must not inherit fd 9,
# so every server launch closes it with `9>&-`.
take_lock() {
    local lockfile="$1"
    mkdir -p "$(dirname "$lockfile")"
    exec 9>"$lockfile"
    if command -v flock >/dev/null 2>&1; then
        flock -w 300 9 || die "Another infra command has held $lockfile for 5 minutes." \
            "If no other start/stop is running, delete that file and re-run."
    fi
}

# Print the last N lines of a log file, framed, to stderr (for failures).
show_log_tail() {
    local file="$1" n="${2:-40}"
    [[ -s "$file" ]] || return 0
    printf '[%s] ---- last %s lines of %s ----\n' "$LOG_TAG" "$n" "$file" >&2
    tail -n "$n" "$file" >&2
    printf '[%s] ---- end of log ----\n' "$LOG_TAG" >&2
}
