"""The backoff schedule: exponential, capped, and long enough to outlast an hour's outage."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.retry import RetryPolicy
from services.notifications.settings import NotificationSettings

START = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)


def test_delays_double_from_the_base() -> None:
    policy = RetryPolicy(max_attempts=8, base_s=30, cap_s=3600)
    assert [policy.delay_after(n).total_seconds() for n in range(1, 8)] == [
        30, 60, 120, 240, 480, 960, 1920]


def test_delays_stop_growing_at_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, base_s=30, cap_s=3600)
    assert policy.delay_after(8).total_seconds() == 3600
    assert policy.delay_after(19).total_seconds() == 3600
    assert policy.delay_after(10_000).total_seconds() == 3600  # no overflow


def test_the_default_schedule_outlasts_an_endpoint_down_for_an_hour() -> None:
    policy = RetryPolicy(*(_default(name) for name in
                           ("max_attempts", "backoff_base_s", "backoff_cap_s")))
    offsets = [(t - START).total_seconds() for t in policy.schedule(START)]
    assert offsets == [0, 30, 90, 210, 450, 930, 1890, 3810]
    assert offsets[-1] > 3600


def test_the_last_allowed_failure_makes_the_delivery_dead() -> None:
    policy = RetryPolicy(max_attempts=3, base_s=10, cap_s=100)
    assert policy.next_attempt(START, 1) == START + timedelta(seconds=10)
    assert policy.next_attempt(START, 2) == START + timedelta(seconds=20)
    assert policy.next_attempt(START, 3) is None
    assert policy.is_exhausted(3) and not policy.is_exhausted(2)


def test_failures_count_from_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay_after(0)


def test_settings_defaults_call_no_plain_http_address() -> None:
    assert _default("webhook_allow_loopback_http") is False
    assert (_default("max_attempts"), _default("backoff_base_s"), _default("backoff_cap_s")) == (
        8, 30, 3600)
    assert _default("port") == 8001


def _default(name: str) -> Any:
    # The declared defaults, whatever the environment of the test run says.
    return NotificationSettings.model_fields[name].default
