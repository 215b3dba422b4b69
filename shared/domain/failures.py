"""The errors every entrypoint answers: each carries a stable code for clients and a French
message for people. A rule of the practice is a ``PathwayError`` (``shared.domain.errors``);
who may act is an ``AccessError``, apart, so that no handler of the practice's rules can
swallow a refusal of access."""


class ParcoursError(Exception):
    code = "parcours.error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class AccessError(ParcoursError):
    code = "access.denied"


class UnauthenticatedError(AccessError):
    code = "auth.required"


class ForbiddenError(AccessError):
    code = "access.denied"


class InProgressError(ParcoursError):
    """The caller's previous heavy request is still running: try again in a moment."""

    code = "request.in_progress"


class TooManyFailuresError(AccessError):
    """Too many failed sign-ins or refused tokens from one address: it waits ``retry_after``."""

    code = "auth.too_many_failures"
