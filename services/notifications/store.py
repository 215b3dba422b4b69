"""SQL of the notifications service, through ``shared.storage.sqldb`` so that the same code
runs on SQLite (embedded) and PostgreSQL (distributed). Its tables are
``shared.storage.migrations``' number 2.

Times are stored as ISO 8601 UTC text with microseconds, always the same width, so that text
order is time order on both databases.

Over 300 lines: every statement of the service in one place, each a few lines, so that a
change of a table is seen whole."""

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from services.notifications.preferences import Channel, Preferences, decode_channels
from services.notifications.preferences import encode_channels as _encode
from shared.storage.sqldb import Row, Tx

_DELIVERY_NS = uuid.UUID("5b0c4a52-3f0e-4d44-9a3c-0b7f6d1e2a10")


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


def delivery_id_for(alert_id: str, professional_id: str, channel: str) -> str:
    """The same (alert, professional, channel) always gets the same id, even if re-created."""
    return str(uuid.uuid5(_DELIVERY_NS, f"{alert_id}/{professional_id}/{channel}"))


def next_value(tx: Tx, counter: str) -> int:
    row = tx.one("UPDATE notification_counters SET value = value + 1 WHERE name = :name "
                 "RETURNING value", {"name": counter})
    if row is None:
        raise LookupError(f"counter {counter!r} missing: shared.storage.migrations was not applied")
    return int(row[0])


# -- rows ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    alert_id: str
    pathway_id: str
    event_id: str
    rule: str
    severity: str
    title: str
    message: str
    due_at: str
    raised_at: str
    status: str


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    seq: int
    professional_id: str
    recipient_name: str
    recipient_role: str
    channel: Channel
    destination: str | None
    status: str
    attempts: int
    next_attempt_at: str | None
    created_at: str
    updated_at: str
    sent_at: str | None
    last_error: str | None
    alert: Alert


@dataclass(frozen=True)
class LogEntry:
    entry_id: int
    delivery_id: str
    at: str
    outcome: str
    attempt: int | None
    http_status: int | None
    error: str | None


_ALERT_COLUMNS = ("a.alert_id, a.pathway_id, a.event_id, a.rule, a.severity, a.title, "
                  "a.message, a.due_at, a.raised_at, a.status")
_DELIVERY_COLUMNS = ("d.delivery_id, d.seq, d.professional_id, d.recipient_name, "
                     "d.recipient_role, d.channel, d.destination, d.status, d.attempts, "
                     "d.next_attempt_at, d.created_at, d.updated_at, d.sent_at, d.last_error")
_SELECT = (f"SELECT {_DELIVERY_COLUMNS}, {_ALERT_COLUMNS} FROM notification_deliveries d "
           "JOIN notification_alerts a ON a.alert_id = d.alert_id")


def _delivery(row: Row) -> Delivery:
    (delivery_id, seq, professional_id, name, role, channel, destination, status, attempts,
     next_attempt_at, created_at, updated_at, sent_at, last_error) = row[:14]
    return Delivery(delivery_id, int(seq), professional_id, name, role, channel, destination,
                    status, int(attempts), next_attempt_at, created_at, updated_at, sent_at,
                    last_error, Alert(*row[14:]))


# -- preferences -----------------------------------------------------------------------------

def get_preferences(tx: Tx, professional_id: str) -> Preferences | None:
    row = tx.one("SELECT channels, webhook_url, email FROM notification_preferences "
                 "WHERE professional_id = :id", {"id": professional_id})
    if row is None:
        return None
    return Preferences(channels=decode_channels(row[0]), webhook_url=row[1], email=row[2])


def put_preferences(tx: Tx, professional_id: str, preferences: Preferences,
                    now: datetime) -> None:
    tx.execute(
        "INSERT INTO notification_preferences (professional_id, channels, webhook_url, email,"
        " updated_at) VALUES (:id, :channels, :webhook_url, :email, :now)"
        " ON CONFLICT (professional_id) DO UPDATE SET channels = excluded.channels,"
        " webhook_url = excluded.webhook_url, email = excluded.email,"
        " updated_at = excluded.updated_at",
        {"id": professional_id, "channels": _encode(preferences.channels),
         "webhook_url": preferences.webhook_url, "email": preferences.email, "now": iso(now)},
    )


# -- intake ----------------------------------------------------------------------------------

def insert_alert(tx: Tx, alert: Alert) -> bool:
    """Stores the alert; False when its id is already known (a copy)."""
    row = tx.one(
        "INSERT INTO notification_alerts (alert_id, pathway_id, event_id, rule, severity, title,"
        " message, due_at, raised_at, status) VALUES (:alert_id, :pathway_id, :event_id, :rule,"
        " :severity, :title, :message, :due_at, :raised_at, :status)"
        " ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id",
        asdict(alert),
    )
    return row is not None


def set_alert_status(tx: Tx, alert_id: str, status: str, at: datetime) -> bool:
    """Acknowledged only while open; resolved whatever came before. False if unknown."""
    only_open = "" if status == "resolved" else " AND status = 'open'"
    row = tx.one("UPDATE notification_alerts SET status = :status, status_changed_at = :at"
                 f" WHERE alert_id = :id{only_open} RETURNING alert_id",
                 {"id": alert_id, "status": status, "at": iso(at)})
    return row is not None


def insert_delivery(tx: Tx, alert_id: str, professional_id: str, name: str, role: str,
                    channel: Channel, destination: str | None, status: str,
                    now: datetime) -> str | None:
    """Adds one delivery; None when that (alert, professional, channel) already has one."""
    delivery_id = delivery_id_for(alert_id, professional_id, channel)
    row = tx.one(
        "INSERT INTO notification_deliveries (delivery_id, seq, alert_id, professional_id,"
        " recipient_name, recipient_role, channel, destination, status, attempts,"
        " next_attempt_at, created_at, updated_at, sent_at) VALUES (:delivery_id, :seq,"
        " :alert_id, :professional_id, :name, :role, :channel, :destination, :status, 0,"
        " :next_attempt_at, :now, :now, :sent_at) ON CONFLICT DO NOTHING RETURNING delivery_id",
        {"delivery_id": delivery_id, "seq": next_value(tx, "delivery"), "alert_id": alert_id,
         "professional_id": professional_id, "name": name, "role": role, "channel": channel,
         "destination": destination, "status": status,
         "next_attempt_at": iso(now) if status == "pending" else None, "now": iso(now),
         "sent_at": iso(now) if status == "sent" else None},
    )
    return delivery_id if row is not None else None


def cancel_pending(tx: Tx, alert_id: str, now: datetime, reason: str) -> list[str]:
    rows = tx.execute(
        "UPDATE notification_deliveries SET status = 'cancelled', next_attempt_at = NULL,"
        " updated_at = :now WHERE alert_id = :id AND status = 'pending' RETURNING delivery_id",
        {"id": alert_id, "now": iso(now)},
    )
    ids = sorted(str(r[0]) for r in rows)
    for delivery_id in ids:
        add_log(tx, delivery_id, now, "cancelled", error=reason)
    return ids


# -- dispatching -----------------------------------------------------------------------------

def claim_next(tx: Tx, now: datetime, claim_until: datetime) -> Delivery | None:
    """Takes the most overdue pending delivery by pushing its next attempt to ``claim_until``.

    A conditional update rather than a lock, so it works on both databases: a competing
    dispatcher that picked the same row finds it no longer due and gets nothing."""
    row = tx.one(
        "UPDATE notification_deliveries SET next_attempt_at = :until WHERE delivery_id = ("
        " SELECT delivery_id FROM notification_deliveries WHERE status = 'pending'"
        " AND next_attempt_at <= :now ORDER BY next_attempt_at, seq LIMIT 1)"
        " AND status = 'pending' AND next_attempt_at <= :now RETURNING delivery_id",
        {"now": iso(now), "until": iso(claim_until)},
    )
    return None if row is None else get_delivery(tx, str(row[0]))


def attempts_made(tx: Tx, delivery_id: str) -> int:
    row = tx.one("SELECT COUNT(*) FROM notification_log WHERE delivery_id = :id"
                 " AND outcome IN ('sent', 'failed')", {"id": delivery_id})
    return int(row[0]) if row else 0


def record_sent(tx: Tx, delivery_id: str, now: datetime, http_status: int | None) -> None:
    attempt = attempts_made(tx, delivery_id) + 1
    # Sent is a fact even if the alert was resolved meanwhile: no status condition here.
    tx.execute(
        "UPDATE notification_deliveries SET status = 'sent', sent_at = :now, updated_at = :now,"
        " next_attempt_at = NULL, last_error = NULL WHERE delivery_id = :id",
        {"id": delivery_id, "now": iso(now)},
    )
    add_log(tx, delivery_id, now, "sent", attempt=attempt, http_status=http_status)


def record_failure(tx: Tx, delivery_id: str, now: datetime, next_attempt_at: datetime | None,
                   http_status: int | None, error: str) -> None:
    """One more failure: pending again at ``next_attempt_at``, or dead when it is None."""
    attempt = attempts_made(tx, delivery_id) + 1
    tx.execute(
        "UPDATE notification_deliveries SET attempts = attempts + 1, updated_at = :now,"
        " last_error = :error, status = :status, next_attempt_at = :next"
        " WHERE delivery_id = :id AND status = 'pending'",
        {"id": delivery_id, "now": iso(now), "error": error,
         "status": "pending" if next_attempt_at else "dead",
         "next": iso(next_attempt_at) if next_attempt_at else None},
    )
    add_log(tx, delivery_id, now, "failed", attempt=attempt, http_status=http_status,
            error=error)


def add_log(tx: Tx, delivery_id: str, at: datetime, outcome: str, attempt: int | None = None,
            http_status: int | None = None, error: str | None = None) -> None:
    tx.execute(
        "INSERT INTO notification_log (entry_id, delivery_id, at, outcome, attempt, http_status,"
        " error) VALUES (:entry, :id, :at, :outcome, :attempt, :http_status, :error)",
        {"entry": next_value(tx, "log"), "id": delivery_id, "at": iso(at), "outcome": outcome,
         "attempt": attempt, "http_status": http_status, "error": error},
    )


def retry_dead(tx: Tx, delivery_id: str, now: datetime, destination: str | None) -> None:
    """A new round of attempts for a dead letter, to the destination given (if any)."""
    tx.execute(
        "UPDATE notification_deliveries SET status = 'pending', attempts = 0,"
        " next_attempt_at = :now, updated_at = :now,"
        " destination = COALESCE(:destination, destination)"
        " WHERE delivery_id = :id AND status = 'dead'",
        {"id": delivery_id, "now": iso(now), "destination": destination},
    )
    add_log(tx, delivery_id, now, "retry_requested")


# -- reads -----------------------------------------------------------------------------------

def get_delivery(tx: Tx, delivery_id: str) -> Delivery | None:
    row = tx.one(f"{_SELECT} WHERE d.delivery_id = :id", {"id": delivery_id})
    return _delivery(row) if row else None


def deliveries(tx: Tx, alert_id: str | None = None, professional_id: str | None = None,
               status: str | None = None, limit: int = 200,
               before_seq: int | None = None) -> list[Delivery]:
    """Newest first; ``before_seq``: the next page, older than the last one seen."""
    filters = {"alert_id": alert_id, "professional_id": professional_id, "status": status}
    given = {name: value for name, value in filters.items() if value is not None}
    where = " AND ".join([*(f"d.{name} = :{name}" for name in given),
                          *(["d.seq < :before"] if before_seq is not None else [])]) or "1 = 1"
    rows = tx.execute(f"{_SELECT} WHERE {where} ORDER BY d.seq DESC LIMIT :limit",
                      {**given, "limit": limit, "before": before_seq})
    return [_delivery(r) for r in rows]


def log_of(tx: Tx, delivery_ids: list[str]) -> dict[str, list[LogEntry]]:
    found: dict[str, list[LogEntry]] = {d: [] for d in delivery_ids}
    for delivery_id in delivery_ids:
        rows = tx.execute(
            "SELECT entry_id, delivery_id, at, outcome, attempt, http_status, error"
            " FROM notification_log WHERE delivery_id = :id ORDER BY entry_id",
            {"id": delivery_id},
        )
        found[delivery_id] = [LogEntry(int(r[0]), *r[1:]) for r in rows]
    return found


def stream_after(tx: Tx, professional_id: str, after_seq: int, limit: int = 100
                 ) -> list[Delivery]:
    """The professional's stream deliveries after a sequence number, oldest first."""
    rows = tx.execute(
        f"{_SELECT} WHERE d.professional_id = :id AND d.channel = 'sse' AND d.seq > :after"
        " ORDER BY d.seq LIMIT :limit",
        {"id": professional_id, "after": after_seq, "limit": limit},
    )
    return [_delivery(r) for r in rows]


def stream_open(tx: Tx, professional_id: str, up_to_seq: int) -> list[Delivery]:
    """The professional's stream deliveries of alerts still open, up to a sequence number."""
    rows = tx.execute(
        f"{_SELECT} WHERE d.professional_id = :id AND d.channel = 'sse' AND d.seq <= :upto"
        " AND a.status = 'open' ORDER BY d.seq",
        {"id": professional_id, "upto": up_to_seq},
    )
    return [_delivery(r) for r in rows]


def last_stream_seq(tx: Tx, professional_id: str) -> int:
    row = tx.one("SELECT MAX(seq) FROM notification_deliveries WHERE professional_id = :id"
                 " AND channel = 'sse'", {"id": professional_id})
    notices = tx.one("SELECT MAX(seq) FROM notification_notices WHERE professional_id = :id",
                     {"id": professional_id})
    found = [int(r[0]) for r in (row, notices) if r and r[0] is not None]
    return max(found, default=0)


# -- notices ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    seq: int
    professional_id: str
    at: str
    kind: str
    message: str


def add_notice(tx: Tx, professional_id: str, kind: str, message: str, now: datetime) -> int:
    seq = next_value(tx, "delivery")
    tx.execute("INSERT INTO notification_notices (seq, professional_id, at, kind, message)"
               " VALUES (:seq, :id, :at, :kind, :message)",
               {"seq": seq, "id": professional_id, "at": iso(now), "kind": kind,
                "message": message})
    return seq


def notices_after(tx: Tx, professional_id: str, cursor: int) -> list[Notice]:
    rows = tx.execute("SELECT seq, professional_id, at, kind, message FROM notification_notices"
                      " WHERE professional_id = :id AND seq > :cursor ORDER BY seq",
                      {"id": professional_id, "cursor": cursor})
    return [Notice(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


# -- webhook secrets -------------------------------------------------------------------------

def webhook_secret_of(tx: Tx, professional_id: str) -> tuple[str, str] | None:
    """The subscription's secret and the address it was issued for."""
    row = tx.one("SELECT secret, webhook_url FROM notification_webhook_secrets"
                 " WHERE professional_id = :id", {"id": professional_id})
    return (str(row[0]), str(row[1])) if row else None


def set_webhook_secret(tx: Tx, professional_id: str, secret: str, webhook_url: str,
                       now: datetime) -> None:
    tx.execute(
        "INSERT INTO notification_webhook_secrets (professional_id, secret, webhook_url,"
        " created_at) VALUES (:id, :secret, :url, :now) ON CONFLICT (professional_id)"
        " DO UPDATE SET secret = excluded.secret, webhook_url = excluded.webhook_url,"
        " created_at = excluded.created_at",
        {"id": professional_id, "secret": secret, "url": webhook_url, "now": iso(now)})


# -- secrets ---------------------------------------------------------------------------------

def stored_secret(tx: Tx, name: str, candidate: str, now: datetime) -> str:
    """The stored secret of that name; ``candidate`` becomes it when there is none yet."""
    tx.execute("INSERT INTO notification_secrets (name, value, created_at)"
               " VALUES (:name, :value, :now) ON CONFLICT (name) DO NOTHING",
               {"name": name, "value": candidate, "now": iso(now)})
    row = tx.one("SELECT value FROM notification_secrets WHERE name = :name", {"name": name})
    assert row is not None
    return str(row[0])
