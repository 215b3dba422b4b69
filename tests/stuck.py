"""A lock held by a request that waits on a database in an outage, for the tests of what the
requests queued behind it do."""

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def held_elsewhere(hold: Callable[[], AbstractContextManager[object]]) -> Iterator[None]:
    """``hold()`` entered in another thread for the length of the block."""
    stuck, release = threading.Event(), threading.Event()

    def waits_on_the_database() -> None:
        with hold():
            stuck.set()
            release.wait(10)

    holder = threading.Thread(target=waits_on_the_database)
    holder.start()
    try:
        assert stuck.wait(5)
        yield
    finally:
        release.set()
        holder.join()
