"""Idempotency keys on the PostgreSQL event store: recorded in the transaction of the
command's events (both or neither), one command applied however many times it is sent at
once, expired keys purged."""

import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from shared import fictitious as f
from shared.domain.commands import Answer, IdempotentRequest
from shared.journal import idempotency
from shared.journal.application import Journal
from shared.journal.idempotency import AlreadyAppliedError, KeyReusedError
from shared.runtime.settings import Settings
from tests.integration.conftest import META


def _request(key: str, fingerprint: str = "same") -> IdempotentRequest:
    return IdempotentRequest(
        scope="gc-1", key=key, fingerprint=fingerprint,
        answer=lambda p: Answer(200, {"version": p.version}, {}))


def _notes(journal: Journal, pathway_id: UUID) -> int:
    return sum(1 for e in journal.events_of(pathway_id) if e.type == "FollowUpNoted")


def _admitted(journal: Journal) -> UUID:
    pathway_id = journal.refer(f.referral(random.Random(11)), META)
    journal.admit(pathway_id, f.admission(), "gc-1", META)
    return pathway_id


def test_a_key_is_stored_only_with_its_events(journal: Journal, settings: Settings) -> None:
    pathway_id = _admitted(journal)
    other = Journal(env=settings.journal_env())
    try:
        stale = journal.pathway(pathway_id)
        other.note(pathway_id, f.note(), META)  # the stream moves on meanwhile
        stale.note(f.note(), META)
        meta = replace(META, idempotency=_request("lost"))
        with pytest.raises(IntegrityError):  # the event's version is taken: all undone
            journal.save(stale, **idempotency.saving(meta, stale))
        assert _keys(settings) == []
        # The use case tries again on the fresh state: applied once, key recorded once.
        applied = journal.note(pathway_id, f.note(), meta)
        assert _keys(settings) == [("lost", applied.version)]
        with pytest.raises(AlreadyAppliedError) as replayed:
            other.note(pathway_id, f.note(), meta)
        assert replayed.value.record.answer.body == {"version": applied.version}
        with pytest.raises(KeyReusedError):
            other.note(pathway_id, f.note(), replace(META, idempotency=_request("lost", "x")))
        assert _notes(journal, pathway_id) == 2
    finally:
        other.close()


def test_the_same_command_sent_at_once_is_applied_once(journal: Journal,
                                                       settings: Settings) -> None:
    pathway_id = _admitted(journal)
    senders = 8
    journals = [Journal(env=settings.journal_env()) for _ in range(senders)]  # like 8 APIs
    go = threading.Barrier(senders)
    outcomes: list[Any] = []
    meta = replace(META, idempotency=_request("burst"))

    def send(each: Journal) -> None:
        go.wait()
        try:
            outcomes.append(each.note(pathway_id, f.note(), meta).version)
        except AlreadyAppliedError as done:
            outcomes.append(("replayed", done.record.version))

    threads = [threading.Thread(target=send, args=(each,)) for each in journals]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for each in journals:
            each.close()
    applied = [o for o in outcomes if isinstance(o, int)]
    assert len(applied) == 1, outcomes
    assert sorted(outcomes, key=str) == sorted(
        [applied[0], *[("replayed", applied[0])] * (senders - 1)], key=str)
    assert _notes(journal, pathway_id) == 1


def test_a_referral_sent_at_once_opens_one_pathway(journal: Journal,
                                                   settings: Settings) -> None:
    senders = 6
    journals = [Journal(env=settings.journal_env()) for _ in range(senders)]
    go = threading.Barrier(senders)
    opened: list[UUID] = []
    referral = f.referral(random.Random(12))
    meta = replace(META, idempotency=_request("referral"))

    def send(each: Journal) -> None:
        go.wait()
        try:
            opened.append(each.refer(referral, meta))
        except AlreadyAppliedError as done:
            opened.append(done.record.pathway_id)

    threads = [threading.Thread(target=send, args=(each,)) for each in journals]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for each in journals:
            each.close()
    assert len(opened) == senders and len(set(opened)) == 1
    assert [e.type for e in journal.events_of(opened[0])] == ["Referred"]


def test_expired_keys_are_purged(settings: Settings) -> None:
    journal = Journal(env={**settings.journal_env(), "IDEMPOTENCY_TTL_DAYS": "7"})
    try:
        journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
        pathway_id = _admitted(journal)
        long_ago = datetime.now(UTC) - timedelta(days=8)
        for key in ("ancient", "old"):
            journal.note(pathway_id, f.note(), replace(
                META, now=long_ago, future_tolerance=timedelta(days=400),
                idempotency=_request(key)))
        assert [key for key, _ in _keys(settings)] == ["ancient", "old"]
        # Eight days on, an old key no longer counts: the same key is a new command.
        journal.note(pathway_id, f.note(), replace(META, idempotency=_request("old")))
        assert sorted(key for key, _ in _keys(settings)) == ["ancient", "old"]
        # The purge after a save (at most hourly; at once here) removes what expired.
        journal.recorder.purge_every_s = 0  # type: ignore[attr-defined]
        journal.note(pathway_id, f.note(), replace(META, idempotency=_request("new")))
        assert sorted(key for key, _ in _keys(settings)) == ["new", "old"]
        assert _notes(journal, pathway_id) == 4
    finally:
        journal.close()


def _keys(settings: Settings) -> list[tuple[str, int]]:
    with psycopg.connect(settings.database_url) as conn:
        return [(key, version) for key, version in conn.execute(
            "SELECT key, version FROM idempotency_keys ORDER BY recorded_at")]
