#!/usr/bin/env python3
"""Wait until a Kafka broker is really usable, not just listening.

Usage: wait_kafka.py BOOTSTRAP [--timeout SECONDS] [--pid PID] [--verbose]

An open port is not enough: a KRaft broker accepts connections before its
controller has elected itself and before it can create topics. So this loops
until KafkaAdminClient can create the topic ``parcours.healthcheck``, see it
with a leader in the broker's metadata, and delete it again (tests then see no
extra topic).

Exit codes: 0 ready; 1 not ready before the timeout; 2 bad usage or
kafka-python missing; 3 the process given with --pid died while waiting
(infra/kafka.sh then prints the broker log).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time

HEALTHCHECK_TOPIC = "parcours.healthcheck"


def process_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        pass
    return True


def try_once(kafka, bootstrap: str, step_timeout_ms: int) -> None:
    """One full create/verify/delete round; raises on any failure."""
    from kafka.errors import TopicAlreadyExistsError

    admin = kafka.KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="parcours-wait-kafka",
        request_timeout_ms=step_timeout_ms,
        bootstrap_timeout_ms=step_timeout_ms,
        reconnect_backoff_ms=100,
        reconnect_backoff_max_ms=1000,
    )
    try:
        # A topic left over from an interrupted earlier check is fine.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(
                {HEALTHCHECK_TOPIC: {"num_partitions": 1, "replication_factor": 1}},
                timeout_ms=step_timeout_ms,
            )
        # Creation is acknowledged by the controller; wait until the broker
        # side also serves the topic with a leader.
        admin.wait_for_topics([HEALTHCHECK_TOPIC], timeout_ms=step_timeout_ms)
        admin.delete_topics([HEALTHCHECK_TOPIC], timeout_ms=step_timeout_ms, raise_errors=False)
    finally:
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bootstrap", help="bootstrap servers, e.g. 127.0.0.1:59092")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait (default 120)"
    )
    parser.add_argument("--pid", type=int, help="give up at once if this process dies")
    parser.add_argument(
        "--verbose", action="store_true", help="show kafka-python's log and every error"
    )
    args = parser.parse_args()

    try:
        import kafka  # kafka-python
    except ImportError:
        print(
            f"wait_kafka.py: kafka-python is not installed for {sys.executable}.\n"
            f"Install it with: {sys.executable} -m pip install kafka-python",
            file=sys.stderr,
        )
        return 2
    if not hasattr(kafka.KafkaAdminClient, "wait_for_topics"):
        print(
            f"wait_kafka.py: kafka-python {kafka.__version__} is too old (3.x needed).\n"
            f"Upgrade it with: {sys.executable} -m pip install -U 'kafka-python>=3'",
            file=sys.stderr,
        )
        return 2

    # kafka-python logs every refused connection as a warning; while the
    # broker boots those are expected, so they stay hidden unless --verbose.
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.CRITICAL)

    deadline = time.monotonic() + args.timeout
    last_error = "no attempt made"
    dots = 0
    while True:
        if args.pid is not None and not process_alive(args.pid):
            if dots:
                print(file=sys.stderr)
            print(
                f"wait_kafka.py: process {args.pid} exited before Kafka became ready.",
                file=sys.stderr,
            )
            return 3
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        # Each attempt is bounded so that a dead broker or the deadline is
        # noticed within a few seconds.
        step_ms = int(max(1.0, min(5.0, remaining)) * 1000)
        try:
            try_once(kafka, args.bootstrap, step_ms)
        except Exception as exc:  # any failure just means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}"
            if args.verbose:
                print(f"not ready: {last_error}", file=sys.stderr)
            else:
                print(".", end="", file=sys.stderr, flush=True)
                dots += 1
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            continue
        if dots:
            print(file=sys.stderr)
        print(f"Kafka at {args.bootstrap} is ready.")
        return 0

    if dots:
        print(file=sys.stderr)
    print(
        f"wait_kafka.py: Kafka at {args.bootstrap} was not ready after {args.timeout:g} s.\n"
        f"Last error: {last_error}\n"
        "Check that the broker is running and its log for errors.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
