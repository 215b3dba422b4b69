"""A ceiling on request bodies, checked before anything is parsed or authenticated.

Without it a 40 MB body was read and parsed before the 401, and a 9 MB one produced a 34 MB
error answer. A body larger than the ceiling (declared or streamed) answers 413 at once."""

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": {
        "code": "request.too_large",
        "message": f"Requête trop volumineuse : {limit} octets au plus.",
        "details": {"max_bytes": limit}}}, 413, headers={"Connection": "close"})


class BodyLimit:
    """Pure ASGI: buffers the body up to ``max_bytes``, then hands it to the application."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:  # chunked, or a Content-Length that lied
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # then the disconnect, which streams wait for

        await self.app(scope, replay, send)
