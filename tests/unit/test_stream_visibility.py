"""The stream's read of the store: an alert on a file its reader may no longer read is passed
over (the cursor moves past it, nothing is sent), a notice always reaches its reader."""

from datetime import UTC, datetime
from pathlib import Path

from services.notifications import sse, store
from services.notifications.service import build
from services.notifications.settings import NotificationSettings
from shared.storage.sqldb import SqliteDatabase

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _alert(db: SqliteDatabase, alert_id: str, pathway_id: str) -> None:
    with db.transaction() as tx:
        store.insert_alert(tx, store.Alert(
            alert_id=alert_id, pathway_id=pathway_id, event_id=f"evt-{alert_id}", rule="R1",
            severity="warning", title="Hospitalisation", message="Fictif.",
            due_at=store.iso(NOW), raised_at=store.iso(NOW), status="open"))
        store.insert_delivery(tx, alert_id, "nurse-1", "Infirmière", "nurse", "sse", None,
                              "sent", NOW)


def test_an_alert_the_reader_may_no_longer_see_is_passed_over(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "views.sqlite")
    build(db, NotificationSettings(), lambda _, ids: set(), lambda _: None, clock=lambda: NOW)
    _alert(db, "a-1", "still-hers")
    _alert(db, "a-2", "left")
    with db.transaction() as tx:
        store.add_notice(tx, "nurse-1", "channels.changed", "Vos canaux ont changé.", NOW)
    asked: list[set[str]] = []

    def sees(pathway_ids: set[str]) -> set[str]:
        asked.append(pathway_ids)
        return pathway_ids & {"still-hers"}

    reader = sse.Reader("nurse-1", sees)
    cursor, events = sse._after(db, reader, 0)
    assert asked == [{"still-hers", "left"}]  # asked on the day it sends, for every alert
    assert [person for _, person in events] == ["still-hers", None]  # the alert, the notice
    assert "left" not in "".join(text for text, _ in events)
    assert cursor == 3  # past everything read, the alert passed over included
    assert sse._after(db, reader, cursor) == (3, [])
    assert [d.alert.pathway_id for d in sse._open(db, reader, cursor)] == ["still-hers"]
