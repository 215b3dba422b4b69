"""Differences between two revisions of a service plan (PSI)."""

from dataclasses import dataclass, field

from shared.events import PlanRevised


@dataclass(frozen=True)
class PlanDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _lines(plan: PlanRevised) -> dict[str, str]:
    """Each problem, objective and service as a readable path, with what can change in it."""
    lines: dict[str, str] = {}
    for problem in plan.problems:
        lines[f"problème « {problem.description} »"] = ""
        for objective in problem.objectives:
            at = f"problème « {problem.description} » › objectif « {objective.description} »"
            lines[at] = ""
            for service in objective.services:
                lines[f"{at} › {service.type} par {service.provider}"] = service.frequency
    return lines


def diff(before: PlanRevised, after: PlanRevised) -> PlanDiff:
    old, new = _lines(before), _lines(after)
    return PlanDiff(
        added=[path for path in new if path not in old],
        removed=[path for path in old if path not in new],
        changed=[
            f"{path} : fréquence {old[path]} → {new[path]}"
            for path in new
            if path in old and old[path] != new[path]
        ],
    )
