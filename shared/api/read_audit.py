"""Every response that names a person is audited, one record per person named.

Reads of one file record themselves (``shared.api.http.reading``, allowed or refused); this
middleware covers everything else that shows persons: the caseloads, the waiting list, the
alerts, the graph and its export, the delivery log, and the web pages that list persons. It
looks at what actually left: every ``pathway_id`` in a JSON answer, every
``person:<pathway id>`` node of a graph (JSON or GraphML) and every link to a file in a page,
and records each person once, in one insert, before the answer is sent. If the audit
cannot be written, the answer is not sent (503): nothing is shown that is not recorded."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.storage.audit import Access, AuditLog

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PERSON_NODE = re.compile(rf"(?:person|relative):({_UUID})")
_PAGE_PERSON = re.compile(rf'(?:href="/dossiers/|data-person=")({_UUID})')
"""A page names a person by linking to their file, or marks the element that names them."""
_AUDITED_TYPES = ("application/json", "application/xml", "application/graphml", "text/xml",
                  "text/html")


def named_persons(content_type: str, body: bytes) -> list[str]:
    """The pathway ids a response shows, in the order they first appear."""
    found: dict[str, None] = {}
    if content_type.startswith("application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        for value in _pathway_ids(document):
            found.setdefault(value.lower())
    text = body.decode("utf-8", "replace")
    pattern = _PAGE_PERSON if content_type.startswith("text/html") else _PERSON_NODE
    for match in pattern.finditer(text):
        found.setdefault(match.group(1).lower())
    return list(found)


def _pathway_ids(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "pathway_id" and isinstance(inner, str) and re.fullmatch(_UUID, inner):
                yield inner
            else:
                yield from _pathway_ids(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _pathway_ids(item)


def audit_shown(principal: Any, action: str, persons: list[str],
                address: str | None) -> list[Access]:
    """The records of one answer: each person once."""
    at = datetime.now(UTC)
    return [Access(at=at, actor_id=principal.id, actor_role=principal.role,
                   territory=principal.territory, action=action[:300], pathway_id=person,
                   outcome="allowed", address=address)
            for person in dict.fromkeys(persons)]


class AuditResponses:
    """Pure ASGI: buffers a successful GET answer, records who saw whom, then sends it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if message["type"] == "http.response.start":
                content_type = _header(message, b"content-type")
                passing = not (200 <= message["status"] < 300
                               and content_type.startswith(_AUDITED_TYPES))
                if passing:  # streams, HTML, errors: nothing to audit, sent as they come
                    await send(message)
                else:
                    start = message
                return
            if passing or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            try:
                _record(scope, _header(start, b"content-type"), b"".join(chunks))
            except Exception:
                refusal = JSONResponse({"error": {
                    "code": "audit.unavailable",
                    "message": "Journal des accès indisponible : réessayez plus tard."}}, 503)
                await refusal(scope, receive, send)
                return
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        await self.app(scope, receive, capture)


def _header(message: Message, name: bytes) -> str:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1")).lower()
    return ""


def _record(scope: Scope, content_type: str, body: bytes) -> None:
    persons = named_persons(content_type, body)
    if not persons:
        return
    state = scope.get("state", {})
    principal = state.get("principal")
    audit: AuditLog | None = getattr(scope["app"].state, "audit", None)
    if principal is None or audit is None:
        raise RuntimeError("a response names persons but cannot be audited")
    already = state.get("audited", set())
    client = scope.get("client")
    path = scope["path"] + (f"?{scope['query_string'].decode()[:200]}"
                            if scope.get("query_string") else "")
    audit.record_many(audit_shown(principal, f"list {path}",
                                  [p for p in persons if p not in already],
                                  client[0] if client else None))
