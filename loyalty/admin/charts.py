"""Small line charts for the dashboard, drawn server-side as inline SVG.

Pure functions: numbers in, markup out. No charting library and no script, so a chart is
part of the first paint (nothing loads later and pushes the page down) and costs the
browser nothing to run. Each chart is an image with a title and a description for screen
readers; the page puts a data table with the same numbers beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Room around the plot for the axis labels, in SVG user units.
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
TICKS = 4


@dataclass(frozen=True)
class Series:
    """One line: its name in the legend, one value per day, and its colour class."""

    name: str
    values: Sequence[int | Decimal]
    tone: str


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least `value` and splits
    into TICKS whole steps; at least TICKS, so an empty chart still has a scale."""
    if value <= TICKS:
        return TICKS
    magnitude = 10 ** math.floor(math.log10(value / TICKS))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step == int(step) and step * TICKS >= value:
            return int(step * TICKS)
    return int(10 * magnitude * TICKS)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    days: Sequence[date],
    series: Sequence[Series],
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """An SVG line chart of daily values (non-negative) with a y scale and the first, middle
    and last day under it. `chart_id` makes the title's id unique on the page."""
    top_value = nice_ceiling(max((float(v) for s in series for v in s.values), default=0))
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM

    def x(index: int) -> float:
        if len(days) < 2:
            return LEFT + plot_width / 2
        return LEFT + plot_width * index / (len(days) - 1)

    def y(value: float) -> float:
        return TOP + plot_height * (1 - value / top_value)

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for tick in range(TICKS + 1):
        value = top_value * tick / TICKS
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{width - RIGHT}" '
            f'y1="{_n(y(value))}" y2="{_n(y(value))}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{_n(y(value) + 4)}" '
            f'text-anchor="end">{_count(value)}</text>'
        )
    for index in sorted({0, (len(days) - 1) // 2, len(days) - 1} if days else set()):
        anchor = "start" if index == 0 and len(days) > 1 else "middle"
        if index == len(days) - 1 and len(days) > 1:
            anchor = "end"
        parts.append(
            f'<text class="chart-axis" x="{_n(x(index))}" y="{height - 8}" '
            f'text-anchor="{anchor}">{_day(days[index])}</text>'
        )
    for line in series:
        points = " ".join(
            f"{_n(x(i))},{_n(y(float(v)))}" for i, v in enumerate(line.values[: len(days)])
        )
        parts.append(
            f'<polyline class="chart-line chart-{escape(line.tone)}" fill="none" '
            f'points="{points}"><title>{escape(line.name)}</title></polyline>'
        )
    parts.append("</svg>")
    # Every interpolated text above is escaped or a number we formatted.
    return mark_safe("".join(parts))  # noqa: S308


def _n(value: float) -> str:
    """A coordinate with at most one decimal: "12", "12.5"."""
    return f"{value:.1f}".removesuffix(".0")


def _count(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"
