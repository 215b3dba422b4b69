"""Contacts: who intervenes for whom, in which role, over which period; one row per person,
per episode and per intervention. The graph itself is built from these rows when asked.

Periods use the dates of the facts (joined_on, left_on, closed_on…), never when they were
typed, so that the view is the same whatever order pathways' events arrive in."""

from collections.abc import Mapping, Sequence
from datetime import UTC, date

from projections.contacts.rows import CASE_MANAGER, REFERRER
from shared import events as ev
from shared.events import EventEnvelope
from shared.sqldb import Tx

PERSONS, EPISODES, EDGES = "contact_persons", "contact_episodes", "contact_edges"

# An end before the start (a closure dated before a late join) makes an empty period
# rather than a negative one. ISO dates compare as text on both databases.
_END = "until = CASE WHEN since > :on THEN since ELSE :on END"

_CHANGES_CONTACTS = (ev.Admitted, ev.Waitlisted, ev.CaseManagerAssigned, ev.MemberJoined,
                     ev.MemberLeft, ev.AdmissionRefused, ev.Closed)
"""The events the match below handles, besides the referral."""

Key = Mapping[str, object]
"""pathway_id and episode: the person's current episode."""


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
        pathway_id = str(event.pathway_id)
        payload = event.payload()
        if isinstance(payload, ev.Referred):
            self._refer(tx, pathway_id, payload)
            return
        if not isinstance(payload, _CHANGES_CONTACTS):
            return  # most events (stays, evaluations, alerts) change no contact: no read
        episode = self._current_episode(tx, pathway_id)
        if episode is None:
            raise LookupError(f"contacts: {event.type} before any referral for {pathway_id}")
        key = {"pathway_id": pathway_id, "episode": episode}
        match payload:
            case ev.Admitted():
                self._set_status(tx, pathway_id, "active")
                tx.execute(f"UPDATE {self.episodes} SET admitted_on = :on"
                           " WHERE pathway_id = :pathway_id AND episode = :episode",
                           {**key, "on": payload.decided_on.isoformat()})
            case ev.Waitlisted():
                tx.execute(f"UPDATE {self.episodes} SET waitlisted = 1"
                           " WHERE pathway_id = :pathway_id AND episode = :episode", key)
            case ev.CaseManagerAssigned():
                since = self._case_manager_since(tx, key, event)
                self._end_open(tx, pathway_id, since, role=CASE_MANAGER)
                self._open(tx, key, payload.case_manager_id, payload.case_manager_name,
                           CASE_MANAGER, None, since)
            case ev.MemberJoined():
                member = payload.member
                self._open(tx, key, member.member_id, member.name, member.role,
                           member.organisation, payload.joined_on)
            case ev.MemberLeft():
                tx.execute(
                    f"UPDATE {self.edges} SET {_END} WHERE pathway_id = :pathway_id"
                    " AND member_id = :member_id AND until IS NULL"
                    " AND role NOT IN (:case_manager, :referrer)",
                    {"pathway_id": pathway_id, "member_id": payload.member_id,
                     "on": payload.left_on.isoformat(), "case_manager": CASE_MANAGER,
                     "referrer": REFERRER},
                )
            case ev.AdmissionRefused():
                self._end_episode(tx, key, payload.decided_on, "refused")
            case ev.Closed():
                self._end_episode(tx, key, payload.closed_on, payload.reason_code)

    def _refer(self, tx: Tx, pathway_id: str, referral: ev.Referred) -> None:
        """Opens the person's next episode; the referring professional intervenes in it."""
        person = referral.person
        on = referral.referred_on
        self._end_open(tx, pathway_id, on)  # nothing is open after a refusal or a closure
        tx.execute(
            f"INSERT INTO {self.persons} (pathway_id, label, commune, territory, episode,"
            " status) VALUES (:pathway_id, :label, :commune, :territory, 1, 'awaiting_decision')"
            " ON CONFLICT (pathway_id) DO UPDATE SET label = excluded.label,"
            " commune = excluded.commune, territory = excluded.territory,"
            f" episode = {self.persons}.episode + 1, status = 'awaiting_decision'",
            {"pathway_id": pathway_id,
             "label": f"{person.family_name.upper()} {person.given_names}",
             "commune": person.commune, "territory": referral.territory},
        )
        key = {"pathway_id": pathway_id, "episode": self._current_episode(tx, pathway_id)}
        tx.execute(
            f"INSERT INTO {self.episodes} (pathway_id, episode, territory, referred_on,"
            " waitlisted) VALUES (:pathway_id, :episode, :territory, :on, 0)",
            {**key, "territory": referral.territory, "on": on.isoformat()},
        )
        referrer = referral.referrer
        self._open(tx, key, referrer.id, referrer.name, REFERRER, referrer.organisation, on)

    def _case_manager_since(self, tx: Tx, key: Key, event: EventEnvelope) -> date:
        """The assignment carries no date of its own. The one made with the admission starts
        on the admission date; a later one (a place freed, a transfer) on the day it was
        recorded, never before the admission."""
        row = tx.one(f"SELECT admitted_on, waitlisted FROM {self.episodes}"
                     " WHERE pathway_id = :pathway_id AND episode = :episode", key)
        recorded_on = event.occurred_at.astimezone(UTC).date()
        if row is None or row[0] is None:
            return recorded_on
        admitted_on = date.fromisoformat(row[0])
        had_manager = tx.one(f"SELECT 1 FROM {self.edges} WHERE pathway_id = :pathway_id"
                             " AND episode = :episode AND role = :role",
                             {**key, "role": CASE_MANAGER})
        if had_manager is None and not row[1]:
            return admitted_on
        return max(admitted_on, recorded_on)

    def _end_episode(self, tx: Tx, key: Key, on: date, outcome: str) -> None:
        """A refusal or a closure ends the episode and every intervention still open in it."""
        pathway_id = str(key["pathway_id"])
        self._set_status(tx, pathway_id, "refused" if outcome == "refused" else "closed")
        tx.execute(f"UPDATE {self.episodes} SET ended_on = :on, outcome = :outcome"
                   " WHERE pathway_id = :pathway_id AND episode = :episode",
                   {**key, "on": on.isoformat(), "outcome": outcome})
        self._end_open(tx, pathway_id, on)

    def _open(self, tx: Tx, key: Key, member_id: str, name: str, role: str,
              organisation: str | None, since: date) -> None:
        # Same member, role and start twice: a zero-length stay, then a return the same day.
        tx.execute(
            f"INSERT INTO {self.edges} (pathway_id, episode, member_id, member_name, role,"
            " organisation, since, until) VALUES (:pathway_id, :episode, :member_id, :name,"
            " :role, :organisation, :since, NULL)"
            " ON CONFLICT (pathway_id, member_id, role, since) DO UPDATE SET"
            " episode = excluded.episode, member_name = excluded.member_name,"
            " organisation = excluded.organisation, until = NULL",
            {**key, "member_id": member_id, "name": name, "role": role,
             "organisation": organisation, "since": since.isoformat()},
        )

    def _end_open(self, tx: Tx, pathway_id: str, on: date, role: str | None = None) -> None:
        only_role = " AND role = :role" if role else ""
        tx.execute(
            f"UPDATE {self.edges} SET {_END} WHERE pathway_id = :pathway_id"
            f" AND until IS NULL{only_role}",
            {"pathway_id": pathway_id, "on": on.isoformat(), "role": role},
        )

    def _set_status(self, tx: Tx, pathway_id: str, status: str) -> None:
        tx.execute(f"UPDATE {self.persons} SET status = :status WHERE pathway_id = :pathway_id",
                   {"pathway_id": pathway_id, "status": status})

    def _current_episode(self, tx: Tx, pathway_id: str) -> int | None:
        row = tx.one(f"SELECT episode FROM {self.persons} WHERE pathway_id = :pathway_id",
                     {"pathway_id": pathway_id})
        return int(row[0]) if row else None
