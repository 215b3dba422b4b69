"""An HTTP application served by uvicorn in a background thread, for a process that runs
other work beside its API (the notifier) and for the tests that serve an application."""

import threading
import time

import uvicorn
from fastapi import FastAPI

from shared.api import access_log


class ApiServer:
    """uvicorn in a background thread (it then leaves the signal handlers alone)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                log_config=access_log.log_config(),
                                timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="notifications-api",
                                       daemon=True)

    def start(self, timeout_s: float = 30) -> "ApiServer":
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the notifications API did not start (port taken?)")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
