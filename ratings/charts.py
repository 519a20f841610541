"""Geometry of the dashboard's trend chart, drawn as server-side SVG by the template.

No script and no style attributes: the chart works under the site's strict CSP, and its colours
come from classes in ratings-dashboard.css.
"""

from __future__ import annotations

from dataclasses import dataclass

from ratings.stats import TrendPoint

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36
MAX_X_LABELS = 8


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str
    good_rate: float
    rated: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: float  # x of the plot's right edge
    top: int
    bottom: float  # y of the plot's baseline
    segments: list[str]  # polyline "x,y x,y" runs; a bucket without ratings breaks the line
    points: list[ChartPoint]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def trend_chart(points: list[TrendPoint], *, unit: str) -> TrendChart | None:
    """Good-rate (0–100 %) against time; None when nothing in the period was rated."""
    if not any(point.rated for point in points):
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x_of(index: int) -> float:
        return round(LEFT + (index * step if len(points) > 1 else plot_w / 2), 1)

    def y_of(rate: float) -> float:
        return round(TOP + plot_h * (1 - rate), 1)

    chart_points, segments, run = [], [], []
    for index, point in enumerate(points):
        if point.good_rate is None:
            segments, run = _close(segments, run), []
            continue
        chart_point = ChartPoint(
            x_of(index), y_of(point.good_rate), _label(point, unit), point.good_rate, point.rated
        )
        chart_points.append(chart_point)
        run.append(f"{chart_point.x},{chart_point.y}")
    segments = _close(segments, run)
    every = max(1, -(-len(points) // MAX_X_LABELS))
    x_ticks = [Tick(x_of(i), _label(p, unit)) for i, p in enumerate(points) if i % every == 0]
    y_ticks = [Tick(y_of(share / 100), f"{share}%") for share in (0, 25, 50, 75, 100)]
    return TrendChart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, segments, chart_points,
        y_ticks, x_ticks,
    )  # fmt: skip


def _close(segments: list[str], run: list[str]) -> list[str]:
    return [*segments, " ".join(run)] if len(run) > 1 else segments


def _label(point: TrendPoint, unit: str) -> str:
    if unit == "week":
        year, week, _ = point.start.isocalendar()
        return f"{year}-W{week:02d}"
    return point.start.isoformat()
