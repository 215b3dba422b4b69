"""The errors every entrypoint answers: each carries a stable code for clients and a French
message for people. A rule of the practice is a ``PathwayError``; who may act is an
``AccessError``, apart, so that no handler of the practice's rules can swallow a refusal of
access."""


class ParcoursError(Exception):
    code = "parcours.error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# -- who may act ------------------------------------------------------------------------------


class AccessError(ParcoursError):
    code = "access.denied"


class UnauthenticatedError(AccessError):
    code = "auth.required"


class ForbiddenError(AccessError):
    code = "access.denied"


class TooManyFailuresError(AccessError):
    """Too many failed sign-ins or refused tokens from one address: it waits ``retry_after``."""

    code = "auth.too_many_failures"


class InProgressError(ParcoursError):
    """The caller's previous heavy request is still running: try again in a moment."""

    code = "request.in_progress"


# -- the practice's rules ---------------------------------------------------------------------


class PathwayError(ParcoursError):
    code = "pathway.error"


class RuleBrokenError(PathwayError):
    """A rule of the practice forbids the command in the pathway's current state."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = code


class PathwayNotFoundError(PathwayError):
    code = "pathway.not_found"


class ConcurrentChangeError(PathwayError):
    code = "pathway.concurrent_change"


class ImplausibleInputError(PathwayError):
    """The command is well formed but cannot be true (a date in the future, an unknown
    territory): the caller must correct what they typed."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = code
