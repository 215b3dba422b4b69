"""A pure ASGI middleware that edits an answer's headers as they leave.

Starlette's ``@app.middleware("http")`` (``BaseHTTPMiddleware``) runs each request through a
task and a memory stream of its own; with two of them, that machinery was a large share of a
command's time on the server. Headers need none of it."""

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HeaderEdit = Callable[[Scope, MutableHeaders], None]


class EditHeaders:
    def __init__(self, app: ASGIApp, edit: HeaderEdit) -> None:
        self.app, self.edit = app, edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.edit(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, sending)
