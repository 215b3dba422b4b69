"""The journal's adapters: the application service, the event store, its locks, snapshots and
idempotency keys.

Events and snapshots stored before the domain had a folder of its own name their classes under
``shared.pathway``; the library finds them again through these module topics."""

import importlib

from eventsourcing.utils import register_topic

_MOVED_MODULES = {
    "shared.pathway.domain": "shared.domain.pathway",
    "shared.pathway.events": "shared.domain.events",
    "shared.pathway.territory": "shared.domain.territory",
    "shared.pathway.state": "shared.domain.state",
    "shared.pathway.records": "shared.domain.records",
    "shared.pathway.alerting": "shared.domain.alerting",
    "shared.pathway.followup": "shared.domain.followup",
    "shared.pathway.stays": "shared.domain.stays",
    "shared.pathway.person_index": "shared.domain.person_index",
    "shared.pathway.snapshots": "shared.journal.snapshots",
}

for _old, _new in _MOVED_MODULES.items():
    register_topic(_old, importlib.import_module(_new))
