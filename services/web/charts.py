"""Small server-rendered charts: the numbers the SVG templates draw, and a table fallback.
No script: the pages keep a strict Content-Security-Policy."""

from typing import Any

from services.web.labels import SCALES, label
from shared.events import EventEnvelope

WIDTH, HEIGHT, PAD = 560, 200, 40


def scales(evaluations: list[EventEnvelope]) -> dict[str, Any]:
    """One line per scale over the evaluations, each scaled to its own maximum."""
    points = [(e.payload(), e) for e in evaluations]
    count = len(points)
    step = (WIDTH - 2 * PAD) / max(count - 1, 1)
    lines = []
    for key, (name, bottom, top) in SCALES.items():
        coords = []
        for index, (payload, _) in enumerate(points):
            value = getattr(payload.scales, key, None)  # type: ignore[attr-defined]
            if value is None:
                continue
            x = PAD + index * step
            y = HEIGHT - PAD - (value - bottom) / (top - bottom) * (HEIGHT - 2 * PAD)
            coords.append((round(x, 1), round(y, 1), value))
        lines.append({"key": key, "name": name, "bottom": bottom, "top": top, "points": coords,
                      "path": " ".join(f"{x},{y}" for x, y, _ in coords)})
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "lines": lines,
            "dates": [(round(PAD + i * step, 1), e.payload().evaluated_on)  # type: ignore[attr-defined]
                      for i, (_, e) in enumerate(points)]}


def bars(items: list[tuple[str, float, float | None]]) -> dict[str, Any]:
    """Horizontal bars: (label, value, limit); the limit is drawn as a mark."""
    biggest = max([max(v, lim or 0) for _, v, lim in items] + [1])
    row, width = 28, WIDTH - 290
    return {"width": WIDTH, "height": row * len(items) + 10, "rows": [
        {"label": name, "value": value, "limit": limit, "y": i * row + 5,
         "w": round(value / biggest * width, 1),
         "mark": round(limit / biggest * width, 1) if limit else None,
         "over": limit is not None and value > limit}
        for i, (name, value, limit) in enumerate(items)]}


def loads(managers: list[dict[str, Any]]) -> dict[str, Any]:
    return bars([(m["name"], m["active"], m["capacity"]) for m in managers])


def categories(counts: list[tuple[str, int]]) -> dict[str, Any]:
    return bars([(label(c), n, None) for c, n in counts])
