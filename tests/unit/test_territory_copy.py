"""The repository hands out copies of the cached territory: a copy changed by a command (then
dropped on a conflict) must leave the cached one as it was, however the copy is made."""

import copy
import uuid

from shared.domain.territory import Territory


def test_a_copy_shares_nothing_a_command_changes() -> None:
    cached = Territory.open("T-COPY")
    cached.register("gc-1", "Gestionnaire Un", 3)
    kept, queued = uuid.uuid4(), uuid.uuid4()
    cached.take_place(kept, "gc-1")
    cached.enqueue(queued, cached.created_on)
    cached.collect_events()

    twin = copy.deepcopy(cached)
    twin.register("gc-2", "Gestionnaire Deux", 1)
    twin.take_place(queued, "gc-2")
    twin.release(kept)

    assert twin.places == {queued: "gc-2"} and twin.queue == []
    assert twin.load("gc-1") == 0 and len(twin.pending_events) == 4
    assert cached.places == {kept: "gc-1"} and cached.queue == [queued]
    assert cached.load("gc-1") == 1 and cached.load("gc-2") == 0
    assert set(cached.managers) == {"gc-1"} and cached.pending_events == []
    assert cached.version == twin.version - 4
