"""Contacts: who intervenes for whom, in which role, over which period; one row per person,
per episode and per intervention. The graph itself is built from these rows when asked.

Periods use the dates of the facts (joined_on, left_on, closed_on…), never when they were
typed, so that the view is the same whatever order pathways' events arrive in."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from projections.contacts.rows import CASE_MANAGER, REFERRER
from shared import events as ev
from shared.events import EventEnvelope
from shared.storage.sqldb import Tx, select_in

PERSONS, EPISODES, EDGES = "contact_persons", "contact_episodes", "contact_edges"

_CHANGES_CONTACTS = (ev.Admitted, ev.Waitlisted, ev.CaseManagerAssigned, ev.MemberJoined,
                     ev.MemberLeft, ev.AdmissionRefused, ev.Closed)
"""The events the match below handles, besides the referral."""


class ContactsProjection:
    """``suffix`` names a second set of tables, for a replay beside the live ones."""

    def __init__(self, suffix: str = "") -> None:
        self.name = f"contacts{suffix}"
        self.persons, self.episodes, self.edges = (f"{PERSONS}{suffix}", f"{EPISODES}{suffix}",
                                                   f"{EDGES}{suffix}")
        self.tables: Sequence[str] = (self.persons, self.episodes, self.edges)

    def renamed(self, suffix: str) -> "ContactsProjection":
        return ContactsProjection(suffix)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.persons} (
            pathway_id TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            commune TEXT NOT NULL,
            territory TEXT NOT NULL,
            episode INTEGER NOT NULL,
            status TEXT NOT NULL)""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.episodes} (
            pathway_id TEXT NOT NULL,
            episode INTEGER NOT NULL,
            territory TEXT NOT NULL,
            referred_on TEXT NOT NULL,
            admitted_on TEXT,
            waitlisted INTEGER NOT NULL,
            ended_on TEXT,
            outcome TEXT,
            PRIMARY KEY (pathway_id, episode))""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.edges} (
            pathway_id TEXT NOT NULL,
            episode INTEGER NOT NULL,
            member_id TEXT NOT NULL,
            member_name TEXT NOT NULL,
            role TEXT NOT NULL,
            organisation TEXT,
            since TEXT NOT NULL,
            until TEXT,
            PRIMARY KEY (pathway_id, member_id, role, since))""")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        self.apply_all(tx, [event])

    def apply_all(self, tx: Tx, events: Sequence[EventEnvelope]) -> None:
        """One read of the persons, episodes and interventions of the batch's pathways, the
        events folded into those rows in memory, one multi-row upsert per table."""
        relevant = [e for e in events if e.type == _REFERRED or e.type in _CHANGES_TYPES]
        if not relevant:
            return  # most events (stays, evaluations, alerts) change no contact: no read
        batch = _Rows.read(self, tx, {e.pathway_key for e in relevant})
        for event in relevant:
            batch.fold(event)
        batch.write(self, tx)


_REFERRED = ev.Referred.type_name()
_CHANGES_TYPES = frozenset(cls.type_name() for cls in _CHANGES_CONTACTS)
EdgeKey = tuple[str, str, str, str]
"""pathway_id, member_id, role, since: the intervention's key."""


@dataclass
class _Rows:
    """The rows a batch touches, as the tables have them, then as the events change them.
    Each change below is what one statement of the per-event version did, in the same order,
    so the view is the same whatever the batches' sizes."""

    persons: dict[str, dict[str, Any]]
    episodes: dict[tuple[str, int], dict[str, Any]]
    edges: dict[str, dict[EdgeKey, dict[str, Any]]]
    """By pathway: an event looks at its own pathway's interventions only."""
    changed_persons: set[str] = field(default_factory=set)
    changed_episodes: set[tuple[str, int]] = field(default_factory=set)
    changed_edges: set[EdgeKey] = field(default_factory=set)

    @classmethod
    def read(cls, view: "ContactsProjection", tx: Tx, pathways: set[str]) -> "_Rows":
        persons = {row[0]: {"label": row[1], "commune": row[2], "territory": row[3],
                            "episode": int(row[4]), "status": row[5]}
                   for row in select_in(tx, "SELECT pathway_id, label, commune, territory,"
                                        f" episode, status FROM {view.persons}"
                                        " WHERE pathway_id IN ({in})", pathways)}
        episodes = {(row[0], int(row[1])): {
            "territory": row[2], "referred_on": row[3], "admitted_on": row[4],
            "waitlisted": int(row[5]), "ended_on": row[6], "outcome": row[7]}
            for row in select_in(tx, "SELECT pathway_id, episode, territory, referred_on,"
                                 " admitted_on, waitlisted, ended_on, outcome FROM"
                                 f" {view.episodes} WHERE pathway_id IN ({{in}})", pathways)}
        edges: dict[str, dict[EdgeKey, dict[str, Any]]] = defaultdict(dict)
        for row in select_in(tx, "SELECT pathway_id, member_id, role, since, episode,"
                             f" member_name, organisation, until FROM {view.edges}"
                             " WHERE pathway_id IN ({in})", pathways):
            edges[row[0]][(row[0], row[1], row[2], row[3])] = {
                "episode": int(row[4]), "member_name": row[5], "organisation": row[6],
                "until": row[7]}
        return cls(persons, episodes, edges)

    def fold(self, event: EventEnvelope) -> None:
        pathway_id = event.pathway_key
        payload = event.payload()
        if isinstance(payload, ev.Referred):
            self._refer(pathway_id, payload)
            return
        person = self.persons.get(pathway_id)
        if person is None:
            raise LookupError(f"contacts: {event.type} before any referral for {pathway_id}")
        key = (pathway_id, int(person["episode"]))
        match payload:
            case ev.Admitted():
                self._set_status(pathway_id, "active")
                self._episode(key)["admitted_on"] = payload.decided_on.isoformat()
            case ev.Waitlisted():
                self._episode(key)["waitlisted"] = 1
            case ev.CaseManagerAssigned():
                since = self._case_manager_since(key, event)
                self._end_open(pathway_id, since, role=CASE_MANAGER)
                self._open(key, payload.case_manager_id, payload.case_manager_name,
                           CASE_MANAGER, None, since)
            case ev.MemberJoined():
                member = payload.member
                self._open(key, member.member_id, member.name, member.role,
                           member.organisation, payload.joined_on)
            case ev.MemberLeft():
                self._end(pathway_id, lambda k: k[1] == payload.member_id
                          and k[2] not in (CASE_MANAGER, REFERRER), payload.left_on)
            case ev.AdmissionRefused():
                self._end_episode(key, payload.decided_on, "refused")
            case ev.Closed():
                self._end_episode(key, payload.closed_on, payload.reason_code)

    def _refer(self, pathway_id: str, referral: ev.Referred) -> None:
        """Opens the person's next episode; the referring professional intervenes in it."""
        person = referral.person
        on = referral.referred_on
        self._end_open(pathway_id, on)  # nothing is open after a refusal or a closure
        known = self.persons.get(pathway_id)
        self.persons[pathway_id] = {
            "label": f"{person.family_name.upper()} {person.given_names}",
            "commune": person.commune, "territory": referral.territory,
            "episode": int(known["episode"]) + 1 if known else 1,
            "status": "awaiting_decision"}
        self.changed_persons.add(pathway_id)
        key = (pathway_id, int(self.persons[pathway_id]["episode"]))
        self.episodes[key] = {"territory": referral.territory, "referred_on": on.isoformat(),
                              "admitted_on": None, "waitlisted": 0, "ended_on": None,
                              "outcome": None}
        self.changed_episodes.add(key)
        referrer = referral.referrer
        self._open(key, referrer.id, referrer.name, REFERRER, referrer.organisation, on)

    def _case_manager_since(self, key: tuple[str, int], event: EventEnvelope) -> date:
        """The assignment carries no date of its own. The one made with the admission starts
        on the admission date; a later one (a place freed, a transfer) on the day it was
        recorded, never before the admission."""
        episode = self.episodes.get(key)
        recorded_on = event.occurred_at.astimezone(UTC).date()
        if not episode or episode.get("admitted_on") is None:
            return recorded_on
        admitted_on = date.fromisoformat(episode["admitted_on"])
        had_manager = any(k[2] == CASE_MANAGER and row["episode"] == key[1]
                          for k, row in self.edges[key[0]].items())
        if not had_manager and not episode.get("waitlisted"):
            return admitted_on
        return max(admitted_on, recorded_on)

    def _end_episode(self, key: tuple[str, int], on: date, outcome: str) -> None:
        """A refusal or a closure ends the episode and every intervention still open in it."""
        self._set_status(key[0], "refused" if outcome == "refused" else "closed")
        episode = self._episode(key)
        episode["ended_on"], episode["outcome"] = on.isoformat(), outcome
        self._end_open(key[0], on)

    def _episode(self, key: tuple[str, int]) -> dict[str, Any]:
        self.changed_episodes.add(key)
        return self.episodes.setdefault(key, {})  # a missing row stays missing: see write

    def _open(self, key: tuple[str, int], member_id: str, name: str, role: str,
              organisation: str | None, since: date) -> None:
        # Same member, role and start twice: a zero-length stay, then a return the same day.
        edge = (key[0], member_id, role, since.isoformat())
        self.edges[key[0]][edge] = {"episode": key[1], "member_name": name,
                            "organisation": organisation, "until": None}
        self.changed_edges.add(edge)

    def _end_open(self, pathway_id: str, on: date, role: str | None = None) -> None:
        self._end(pathway_id, lambda k: role is None or k[2] == role, on)

    def _end(self, pathway_id: str, matches: Callable[[EdgeKey], bool], on: date) -> None:
        """Ends the open interventions that match; an end before the start (a closure dated
        before a late join) makes an empty period rather than a negative one."""
        day = on.isoformat()
        for key, row in self.edges[pathway_id].items():
            if row["until"] is None and matches(key):
                row["until"] = key[3] if key[3] > day else day
                self.changed_edges.add(key)

    def _set_status(self, pathway_id: str, status: str) -> None:
        self.persons[pathway_id]["status"] = status
        self.changed_persons.add(pathway_id)

    def write(self, view: "ContactsProjection", tx: Tx) -> None:
        tx.execute_many(
            f"INSERT INTO {view.persons} (pathway_id, label, commune, territory, episode,"
            " status) VALUES (:pathway_id, :label, :commune, :territory, :episode, :status)"
            " ON CONFLICT (pathway_id) DO UPDATE SET label = excluded.label,"
            " commune = excluded.commune, territory = excluded.territory,"
            " episode = excluded.episode, status = excluded.status",
            [{"pathway_id": pathway_id, **self.persons[pathway_id]}
             for pathway_id in sorted(self.changed_persons)])
        # An UPDATE of an episode row that does not exist changed nothing: still nothing.
        tx.execute_many(
            f"INSERT INTO {view.episodes} (pathway_id, episode, territory, referred_on,"
            " admitted_on, waitlisted, ended_on, outcome) VALUES (:pathway_id, :episode,"
            " :territory, :referred_on, :admitted_on, :waitlisted, :ended_on, :outcome)"
            " ON CONFLICT (pathway_id, episode) DO UPDATE SET territory = excluded.territory,"
            " referred_on = excluded.referred_on, admitted_on = excluded.admitted_on,"
            " waitlisted = excluded.waitlisted, ended_on = excluded.ended_on,"
            " outcome = excluded.outcome",
            [{"pathway_id": key[0], "episode": key[1], **self.episodes[key]}
             for key in sorted(self.changed_episodes) if "referred_on" in self.episodes[key]])
        tx.execute_many(
            f"INSERT INTO {view.edges} (pathway_id, episode, member_id, member_name, role,"
            " organisation, since, until) VALUES (:pathway_id, :episode, :member_id,"
            " :member_name, :role, :organisation, :since, :until)"
            " ON CONFLICT (pathway_id, member_id, role, since) DO UPDATE SET"
            " episode = excluded.episode, member_name = excluded.member_name,"
            " organisation = excluded.organisation, until = excluded.until",
            [{"pathway_id": key[0], "member_id": key[1], "role": key[2], "since": key[3],
              **self.edges[key[0]][key]} for key in sorted(self.changed_edges)])
