"""The case file's routes, one module per resource (the table of every route and its file is
docs/routes.md). ``COMMANDS`` are mounted before ``reads``: where a path has both a command
and a read (the care circle, the plan revisions), the command's route is the one met first."""

from services.casefile.routes import (
    alerts,
    circle,
    closure,
    dysfunctions,
    evaluations,
    notes,
    plan,
    reads,
    stays,
    vigilance,
)

COMMANDS = (plan.router, circle.router, dysfunctions.router, evaluations.router, stays.router,
            notes.router, closure.router)

__all__ = ["COMMANDS", "alerts", "reads", "vigilance"]
