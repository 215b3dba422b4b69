"""What the intake keeps beside the journal: the keys of the messages already applied (so that
a repeat stores nothing), which event each movement became (so that the hospital's ZBE-4
UPDATE of a movement finds what it corrects), the keys of the messages answered AE for an
identity-vigilance incident with the names of the traits that differed (so that a repeat gets
the same answer and raises no second incident), and, for persons Parcours does not follow, a
count per sending facility and nothing else (data minimisation)."""

from datetime import date, datetime
from uuid import UUID

from shared.storage.migrations import migrate
from shared.storage.sqldb import Database


class IntakeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db)  # keys and counts cannot be rebuilt: their tables are migrations 5, 7

    def applied(self, sender: str, control_id: str, movement_id: str) -> bool:
        with self.db.transaction() as tx:
            return tx.one("SELECT 1 FROM hl7_applied WHERE sender = :s AND control_id = :c "
                          "AND movement_id = :m",
                          {"s": sender, "c": control_id, "m": movement_id}) is not None

    def remember(self, sender: str, control_id: str, movement_id: str, pathway_id: str,
                 at: datetime, movement_event_id: UUID | None = None) -> None:
        """The message is applied; ``movement_event_id``: the event its movement became."""
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO hl7_applied VALUES (:s, :c, :m, :p, :at) "
                       "ON CONFLICT DO NOTHING",
                       {"s": sender, "c": control_id, "m": movement_id, "p": pathway_id,
                        "at": at.isoformat()})
            if movement_id and movement_event_id is not None:
                tx.execute("INSERT INTO hl7_movements VALUES (:s, :m, :p, :e) "
                           "ON CONFLICT (sender, movement_id) DO UPDATE "
                           "SET pathway_id = excluded.pathway_id, event_id = excluded.event_id",
                           {"s": sender, "m": movement_id, "p": pathway_id,
                            "e": str(movement_event_id)})

    def remember_vigilance(self, sender: str, control_id: str, movement_id: str,
                           pathway_id: str, traits: tuple[str, ...], at: datetime) -> None:
        """The message raised an identity-vigilance incident: ``traits`` differed."""
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO hl7_vigilance VALUES (:s, :c, :m, :p, :t, :at) "
                       "ON CONFLICT DO NOTHING",
                       {"s": sender, "c": control_id, "m": movement_id, "p": pathway_id,
                        "t": " ".join(traits), "at": at.isoformat()})

    def vigilance(self, sender: str, control_id: str, movement_id: str
                  ) -> tuple[str, ...] | None:
        """The traits that differed, if this message raised an incident already."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT traits FROM hl7_vigilance WHERE sender = :s AND "
                         "control_id = :c AND movement_id = :m",
                         {"s": sender, "c": control_id, "m": movement_id})
        return tuple(str(row[0]).split()) if row else None

    def movement(self, sender: str, movement_id: str, pathway_id: str) -> UUID | None:
        """The event a movement of this person became, if Parcours received it."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT event_id FROM hl7_movements WHERE sender = :s AND "
                         "movement_id = :m AND pathway_id = :p",
                         {"s": sender, "m": movement_id, "p": pathway_id})
        return UUID(str(row[0])) if row else None

    def count_unmatched(self, sender: str, day: date, reason: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO hl7_unmatched VALUES (:s, :d, :r, 1) "
                       "ON CONFLICT (sender, day, reason) "
                       "DO UPDATE SET count = hl7_unmatched.count + 1",
                       {"s": sender, "d": day.isoformat(), "r": reason})

    def unmatched(self) -> dict[tuple[str, str], int]:
        """Messages about persons not followed, by sender and reason."""
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT sender, reason, SUM(count) FROM hl7_unmatched "
                              "GROUP BY sender, reason")
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}
