"""Server-rendered SVG charts (no JavaScript): a URL's lag over time, a collection's propagation.

Every value that reaches the SVG is a number we computed or text escaped here. Colours come from the
stylesheet's classes (site.css, "probes" block), so the charts follow the light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from mirrors.models import ProbeState
from mirrors.probing.selectors import LagPoint, PropagationCurve

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
SERIES = 6  # propagation colours, chart-s0 … chart-s5 in the stylesheet


@dataclass(frozen=True)
class Frame:
    """The plotting area and the scales of one chart."""

    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1
        return LEFT + (value - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1
        return HEIGHT - BOTTOM - (value - self.y0) / span * (HEIGHT - TOP - BOTTOM)


def duration_label(seconds: float) -> str:
    """A short human duration: 45 s, 12 min, 3 h, 2 h 30 min, 4 d."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes and hours < 10 else f"{hours} h"
    days, hours = divmod(seconds // 3600, 24)
    return f"{days} d {hours} h" if hours and days < 10 else f"{days} d"


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 5 × a power of ten, or clock units for durations) for about `ticks` ticks."""
    if span <= 0:
        return 1
    rough = span / ticks
    for unit in (60, 300, 600, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400):
        if rough <= unit:
            return unit
    return 7 * 86400 * max(1, round(rough / (7 * 86400)))


def _svg(key: str, title: str, description: str, body: list[str]) -> SafeString:
    key = escape(key)
    return mark_safe(  # noqa: S308 - every part is escaped or numeric
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" data-chart="{key}"><title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _axes(frame: Frame, y_ticks: Sequence[tuple[float, str]], x_ticks: Sequence[tuple[float, str]]) -> list[str]:
    parts = [
        f'<line class="chart-axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}"/>',
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>',
    ]
    for value, label in y_ticks:
        y = frame.y(value)
        parts.append(f'<line class="chart-grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="chart-label" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    for value, label in x_ticks:
        x = frame.x(value)
        parts.append(
            f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return parts


def lag_chart(points: Sequence[LagPoint], *, since: datetime, now: datetime, key: str = "lag") -> SafeString:
    """Lag in time (y) against the probe time (x); failed probes are red marks along the top.

    The time axis starts at the first result (at most `since`), so a young URL's history fills the chart.
    """
    title = "Lag over time"
    if not points:
        return _svg(key, title, "No probe results in this period.", [_empty("No probe results in this period yet")])
    end = now.timestamp()
    first = max(since.timestamp(), min(point.at.timestamp() for point in points))
    start = max(since.timestamp(), first - max(600, (end - first) * 0.03))
    lags = [point.lag_seconds for point in points if point.lag_seconds is not None]
    top = max([*lags, 60])
    step = _nice_step(top)
    top = step * (int(top // step) + 1)
    frame = Frame(start, end, 0, top)
    x_step = _nice_step(end - start, 6)
    first_tick = (int(start // x_step) + 1) * x_step
    x_ticks = []
    tick = first_tick
    while tick < end:
        moment = datetime.fromtimestamp(tick, tz=now.tzinfo)
        x_ticks.append((tick, moment.strftime("%H:%M" if x_step < 86400 else "%d %b")))
        tick += x_step
    y_ticks = [(value * step, duration_label(value * step) if value else "0") for value in range(int(top // step) + 1)]
    body = _axes(frame, y_ticks, x_ticks)
    path = []
    for point in points:
        if point.lag_seconds is None:
            continue
        x, y = frame.x(point.at.timestamp()), frame.y(point.lag_seconds)
        path.append(f"{'M' if not path else 'L'}{x:.1f},{y:.1f}")
    if path:
        body.append(f'<path class="chart-line" d="{" ".join(path)}"/>')
    for point in points:
        x = frame.x(point.at.timestamp())
        label = f"{point.at:%Y-%m-%d %H:%M} UTC: {ProbeState(point.state).label}"
        if point.lag_seconds is None:
            body.append(
                f'<rect class="chart-fail" x="{x - 3:.1f}" y="{TOP}" width="6" height="10">'
                f"<title>{escape(label)}</title></rect>"
            )
        else:
            y = frame.y(point.lag_seconds)
            css = "chart-dot chart-" + point.state
            text = f"{label}, lag {duration_label(point.lag_seconds)}"
            body.append(f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(text)}</title></circle>')
    failed = sum(1 for point in points if point.lag_seconds is None)
    description = (
        f"{len(points)} probe results from {since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC; "
        f"largest lag {duration_label(max(lags)) if lags else 'none'}; {failed} without a revision (failed)."
    )
    return _svg(key, title, description, body)


def propagation_chart(curves: Sequence[PropagationCurve], *, key: str = "propagation") -> SafeString:
    """For each revision, the share of mirrors that have it (y) against the time since it was published (x)."""
    title = "Propagation of recent revisions"
    if not curves:
        return _svg(
            key, title, "No revisions or no probed mirrors yet.", [_empty("No revisions or no probed mirrors yet")]
        )
    # Up to a little after the last change of any curve (where they all went flat), at least an hour.
    settled = max(max(x for x, _ in curve.points[:-1] or curve.points) for curve in curves)
    horizon = max(3600, int(settled * 1.2))
    frame = Frame(0, horizon, 0, 1)
    x_step = _nice_step(horizon, 6)
    x_ticks = [(value, duration_label(value) if value else "0") for value in range(0, int(horizon) + 1, int(x_step))]
    y_ticks = [(share, f"{int(share * 100)} %") for share in (0, 0.25, 0.5, 0.75, 1)]
    body = _axes(frame, y_ticks, x_ticks)
    legend_x = LEFT + 8
    for index, curve in enumerate(curves):
        css = f"chart-s{index % SERIES}"
        path, last_y = [], None
        for x_value, share in curve.points:
            x, y = frame.x(min(x_value, horizon)), frame.y(share)
            if last_y is None:
                path.append(f"M{x:.1f},{y:.1f}")
            else:
                path.append(f"L{x:.1f},{last_y:.1f} L{x:.1f},{y:.1f}")  # a step: the share holds until the next
            last_y = y
        final = curve.points[-1][1]
        body.append(
            f'<path class="chart-step {css}" d="{" ".join(path)}"><title>revision {curve.number}: '
            f"{int(final * 100)} % of {curve.mirrors} mirrors</title></path>"
        )
        body.append(
            f'<text class="chart-legend {css}" x="{legend_x}" y="{TOP + 12}">'
            f"r{curve.number} {int(final * 100)} %</text>"
        )
        legend_x += 96
    description = "; ".join(
        f"revision {curve.number}: {int(curve.points[-1][1] * 100)} % of {curve.mirrors} mirrors" for curve in curves
    )
    return _svg(key, title, description, body)


def _empty(text: str) -> str:
    return f'<text class="chart-label" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(text)}</text>'
