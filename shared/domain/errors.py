"""Domain errors. Each carries a stable code for clients and a French message for people."""


from shared.domain.failures import ParcoursError


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
