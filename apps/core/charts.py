"""Line charts rendered on the server as inline SVG: no JavaScript, no CDN, prints fine.

``line_chart([Series(...), ...])`` draws time series on a shared time axis with a value axis
of round ticks, a legend, and a native tooltip (``<title>``) on every point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")
MAX_POINTS = 400


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[datetime, Decimal]]
    color: str = ""


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _value_ticks(low: float, high: float, ticks: int = 5) -> list[float]:
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step(high - low, ticks)
    start = math.floor(low / step) * step
    values: list[float] = []
    value = start
    while value <= high + step * 0.5 and len(values) < 12:
        values.append(value)
        value += step
    if values[-1] < high:
        values.append(values[-1] + step)
    return values


def _thin(points: Sequence[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """At most MAX_POINTS evenly spaced points, always keeping the last one."""
    points = list(points)
    if len(points) <= MAX_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_POINTS)
    thinned = points[::stride]
    if thinned[-1] is not points[-1]:
        thinned.append(points[-1])
    return thinned


def _time_label(moment: datetime, span_seconds: float) -> str:
    """A tick's label, as fine as the span needs: seconds under ten minutes (a young pool's
    chart spans a few minutes: minutes alone repeat on every tick), minutes within two days,
    days within four months, months beyond."""
    if span_seconds <= 600:
        return moment.strftime("%H:%M:%S")
    if span_seconds <= 2 * 86400:
        return moment.strftime("%H:%M")
    if span_seconds <= 120 * 86400:
        return moment.strftime("%d %b")
    return moment.strftime("%b %Y")


def default_value_format(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.2f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if value else "0"


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    width: int = 760,
    height: int = 240,
    value_format: Callable[[float], str] = default_value_format,
    point_format: Callable[[Decimal], str] = lambda value: f"{value:,.8f}",
    empty_text: str = "No data yet",
) -> SafeString:
    series = [s for s in series if s.points]
    left, right, top, bottom = 78, 16, 28 if title else 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [
        f'<svg class="cp-chart" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        out.append(f'<text x="{left}" y="16" class="cp-chart-title">{escape(title)}</text>')
    if not series:
        out.append(
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="cp-chart-bg"/>'
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'class="cp-chart-empty">{escape(empty_text)}</text></svg>'
        )
        return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped

    all_points = [p for s in series for p in s.points]
    t0 = min(p[0] for p in all_points).timestamp()
    t1 = max(p[0] for p in all_points).timestamp()
    t_span = max(t1 - t0, 1.0)
    values = [float(p[1]) for p in all_points]
    ticks = _value_ticks(min(values), max(values))
    v0, v1 = ticks[0], ticks[-1]

    def x(moment: datetime) -> float:
        return left + (moment.timestamp() - t0) / t_span * plot_w if t1 > t0 else left + plot_w / 2

    def y(value: float) -> float:
        return top + plot_h - (value - v0) / (v1 - v0) * plot_h

    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="cp-chart-bg"/>'
    )
    for tick in ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'class="cp-chart-grid"/>'
            f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" class="cp-chart-axis">'
            f"{escape(value_format(tick))}</text>"
        )
    x_ticks = 6 if t1 > t0 else 1
    shown = ""
    for i in range(x_ticks):
        moment = datetime.fromtimestamp(
            t0 + t_span * i / max(x_ticks - 1, 1), tz=all_points[0][0].tzinfo
        )
        label = _time_label(moment, t_span)
        if label == shown:  # never the same time twice along the axis
            continue
        shown = label
        tx = x(moment)
        anchor = "start" if i == 0 and x_ticks > 1 else "end" if i == x_ticks - 1 else "middle"
        out.append(
            f'<text x="{tx:.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}" '
            f'class="cp-chart-axis">{escape(label)}</text>'
        )
    for index, item in enumerate(series):
        color = item.color or PALETTE[index % len(PALETTE)]
        points = _thin(item.points)
        coords = " ".join(f"{x(t):.1f},{y(float(v)):.1f}" for t, v in points)
        if len(series) == 1 and len(points) > 1:
            base = top + plot_h
            out.append(
                f'<polygon points="{x(points[0][0]):.1f},{base} {coords} '
                f'{x(points[-1][0]):.1f},{base}" fill="{color}" fill-opacity="0.10"/>'
            )
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
        radius = 3 if len(points) <= 60 else 1.5
        for t, v in points:
            label = f"{item.name} · {t:%Y-%m-%d %H:%M} · {point_format(v)}"
            out.append(
                f'<circle cx="{x(t):.1f}" cy="{y(float(v)):.1f}" r="{radius}" fill="{color}">'
                f"<title>{escape(label)}</title></circle>"
            )
    legend_x = left
    for index, item in enumerate(series):
        color = item.color or PALETTE[index % len(PALETTE)]
        out.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" class="cp-chart-legend">'
            f"{escape(item.name)}</text>"
        )
        legend_x += 24 + 7 * len(item.name)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped
