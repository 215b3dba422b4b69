"""Reads the contact view's rows, in a stable order so that every export is the same."""

from datetime import date

from projections.contacts.projection import EDGES, EPISODES, PERSONS
from projections.contacts.rows import ContactRows, Edge, Episode, Person
from shared.storage.sqldb import Row, Tx

_PERSONS = f"SELECT pathway_id, label, commune, territory, status, episode FROM {PERSONS}"
_EPISODES = ("SELECT pathway_id, episode, territory, referred_on, admitted_on, ended_on, outcome"
             f" FROM {EPISODES}")
_EDGES = ("SELECT pathway_id, episode, member_id, member_name, role, organisation, since, until"
          f" FROM {EDGES}")
_ONE = " WHERE pathway_id = :pathway_id"


def rows(tx: Tx) -> ContactRows:
    """The whole view; the graph is filtered by territory and date in memory."""
    return _read(tx, "", {})


def rows_of(tx: Tx, pathway_id: str) -> ContactRows:
    """One person's rows; empty when the view does not know the pathway."""
    return _read(tx, _ONE, {"pathway_id": pathway_id})


def _read(tx: Tx, where: str, params: dict[str, str]) -> ContactRows:
    return ContactRows(
        persons=[Person(*r) for r in tx.execute(f"{_PERSONS}{where} ORDER BY pathway_id", params)],
        episodes=[_episode(r) for r in tx.execute(
            f"{_EPISODES}{where} ORDER BY pathway_id, episode", params)],
        edges=[_edge(r) for r in tx.execute(
            f"{_EDGES}{where} ORDER BY pathway_id, since, member_id, role", params)],
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _episode(r: Row) -> Episode:
    return Episode(pathway_id=r[0], number=int(r[1]), territory=r[2],
                   referred_on=date.fromisoformat(r[3]), admitted_on=_day(r[4]),
                   ended_on=_day(r[5]), outcome=r[6])


def _edge(r: Row) -> Edge:
    return Edge(pathway_id=r[0], episode=int(r[1]), member_id=r[2], member_name=r[3], role=r[4],
                organisation=r[5], since=date.fromisoformat(r[6]), until=_day(r[7]))
