"""The overview's chart of runs over time, as geometry an inline-SVG template draws.

No charting library and no network: the template turns these numbers into <polyline>,
<circle> and <text> elements (autoescaped like everything else).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from report.records import RunPoint

WIDTH, HEIGHT = 900, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
# Above this many runs the points are not drawn as dots (the lines stay).
DOTS_UP_TO = 60

# (attribute of RunPoint, legend, CSS class): the series drawn, in legend order.
SERIES = (
    ("fetched", "pages fetched", "s-fetched"),
    ("failed", "failed", "s-failed"),
    ("new_pages", "new pages", "s-new"),
    ("changed_pages", "changed pages", "s-changed"),
    ("duplicates", "duplicate pairs found", "s-dups"),
)


@dataclass(frozen=True, slots=True)
class Dot:
    """A point of a series, with its tooltip."""

    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Series:
    """One line of the chart."""

    name: str
    css: str
    points: str  # "x,y x,y ..." for <polyline points>
    dots: tuple[Dot, ...]
    latest: int


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis label at a position."""

    at: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last dates stay inside


@dataclass(frozen=True, slots=True)
class Chart:
    """The chart: size, plot area, series and axis ticks."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    runs: int


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def build_chart(points: Sequence[RunPoint]) -> Chart:
    """The chart of `points` (oldest first)."""
    top_value = _nice_max(max((getattr(p, a) for p in points for a, _, _ in SERIES), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return round(LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(value: int) -> float:
        return round(TOP + plot_h - plot_h * value / top_value, 1)

    series = []
    for attr, name, css in SERIES:
        values = [int(getattr(p, attr)) for p in points]
        coords = [(x(i), y(v)) for i, v in enumerate(values)]
        dots = tuple(
            Dot(cx, cy, f"{name}: {v} ({_when(p)})")
            for (cx, cy), v, p in zip(coords, values, points, strict=True)
        ) if n <= DOTS_UP_TO else ()
        series.append(Series(name, css, " ".join(f"{a},{b}" for a, b in coords), dots,
                             values[-1] if values else 0))
    y_ticks = tuple(Tick(y(v), f"{v:,}") for v in (0, top_value // 2, top_value))
    picks = sorted({0, n // 2, n - 1}) if n else []
    x_ticks = tuple(
        Tick(x(i), _when(points[i]), "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1
             else "middle")
        for i in picks
    )
    return Chart(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM, tuple(series), y_ticks, x_ticks, n)


def _when(point: RunPoint) -> str:
    return f"{point.started_at:%Y-%m-%d %H:%M}" if point.started_at else point.run_id[:8]
