"""Server-side SVG charts for the dashboard: bars, a funnel, a score histogram and a two-series line.

SVG drawn here rather than a JavaScript chart library: the pages work with
scripts off, nothing is fetched from a CDN (machines here are offline), and
the tests can read the figures straight out of the markup. Every label goes
through format_html, so a campaign or lead name cannot inject markup.

Each chart is an `<svg data-chart="<name>" role="img" aria-label="...">`;
each bar or point carries `data-label` and `data-value` and a `<title>`
tooltip, and a chart with nothing to draw says "No calls yet".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 640
HEIGHT = 240
# Room for the y-axis title and ticks as wide as "$0.050" on the left, and the x labels underneath.
LEFT, RIGHT, TOP, BOTTOM = 68, 16, 16, 44
PLOT_H = HEIGHT - TOP - BOTTOM
# Past this many x labels, only every n-th is written so they do not overlap.
MAX_X_LABELS = 12
EMPTY_TEXT = "No calls yet"
EMPTY_HEIGHT = 120

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    """One bar: its axis label, its value (None draws no bar) and the tooltip text."""

    label: str
    value: float | None
    tooltip: str = ""


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name and one value (or None for a gap) per x label."""

    name: str
    values: Sequence[float | None]
    css_class: str


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _raw(value: float) -> str:
    # data-value is for machines (tests, scripts): no thousands separator, no float noise.
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0")


def _svg(
    name: str, label: str, body: SafeString, *, width: int = WIDTH, height: int = HEIGHT, empty: bool = False
) -> SafeString:
    return format_html(
        '<svg class="chart" data-chart="{}" data-empty="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet"><title>{}</title>{}</svg>',
        name,
        "true" if empty else "false",
        label,
        width,
        height,
        label,
        body,
    )


def empty_chart(*, name: str, label: str, text: str = EMPTY_TEXT, width: int = WIDTH) -> SafeString:
    """Return a chart frame that only says `text`."""
    # Shorter than a chart: a page of empty charts should not be mostly blank space.
    body = format_html(
        '<text class="empty" x="{}" y="{}" text-anchor="middle">{}</text>', width // 2, EMPTY_HEIGHT // 2, text
    )
    return _svg(name, label, body, width=width, height=EMPTY_HEIGHT, empty=True)


def nice_max(value: float) -> float:
    """Return a round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - (value / top) * PLOT_H


def _divisions(top: float) -> int:
    # 4 steps for a top of 2, 20, 200...; 5 for 1, 2.5, 5, 10...: every tick is a round number.
    leading = top / 10 ** math.floor(math.log10(top))
    return 4 if round(leading) == 2 and leading < 2.4 else 5


def _grid(top: float, fmt: Formatter, width: int) -> SafeString:
    lines = []
    divisions = _divisions(top)
    for i in range(divisions + 1):
        value = top * i / divisions
        y = f"{_y(value, top):.1f}"
        lines.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" dy="0.32em" text-anchor="end">{}</text>',
                LEFT,
                width - RIGHT,
                y,
                y,
                LEFT - 6,
                y,
                fmt(value),
            )
        )
    return format_html_join("", "{}", ((line,) for line in lines))


def _axis_titles(x_title: str, y_title: str, width: int) -> SafeString:
    return format_html(
        '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="axis-title" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="axis-title" transform="translate(12 {}) rotate(-90)" text-anchor="middle">{}</text>',
        LEFT,
        width - RIGHT,
        TOP + PLOT_H,
        TOP + PLOT_H,
        (LEFT + width - RIGHT) // 2,
        HEIGHT - 6,
        x_title,
        TOP + PLOT_H // 2,
        y_title,
    )


def _x_label(i: int, count: int, x: float, label: str) -> SafeString:
    every = math.ceil(count / MAX_X_LABELS)
    if i % every:
        return SafeString("")
    return format_html(
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', f"{x:.1f}", TOP + PLOT_H + 16, label
    )


def bar_chart(
    *,
    name: str,
    label: str,
    bars: Sequence[Bar],
    x_title: str,
    y_title: str,
    fmt: Formatter = _number,
    integer: bool = False,
    empty_text: str = EMPTY_TEXT,
) -> SafeString:
    """Return a vertical bar chart; with no bar above zero it is an empty state saying `empty_text`.

    `integer` charts (counts) get an axis of whole numbers, at least 0-5.
    """
    values = [bar.value for bar in bars if bar.value is not None]
    if not bars or not any(values):
        return empty_chart(name=name, label=label, text=empty_text)
    top = max(nice_max(max(values)), 5.0) if integer else nice_max(max(values))
    slot = (WIDTH - LEFT - RIGHT) / len(bars)
    width = max(1.0, slot * 0.7)
    parts = [_grid(top, fmt, WIDTH)]
    for i, bar in enumerate(bars):
        x = LEFT + i * slot + (slot - width) / 2
        parts.append(_x_label(i, len(bars), x + width / 2, bar.label))
        if bar.value is None:
            continue
        y = _y(bar.value, top)
        tooltip = bar.tooltip or f"{bar.label}: {fmt(bar.value)}"
        parts.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" data-label="{}" data-value="{}">'
                "<title>{}</title></rect>",
                f"{x:.1f}",
                f"{y:.1f}",
                f"{width:.1f}",
                f"{TOP + PLOT_H - y:.1f}",
                bar.label,
                _raw(bar.value),
                tooltip,
            )
        )
    parts.append(_axis_titles(x_title, y_title, WIDTH))
    return _svg(name, label, format_html_join("", "{}", ((p,) for p in parts)))


def histogram(*, name: str, label: str, counts: Sequence[int], x_title: str = "Score") -> SafeString:
    """Return a histogram of scores 0-100 from ten bucket counts (0-9, 10-19, ..., 90-100)."""
    bars = []
    for i, n in enumerate(counts):
        low, high = i * 10, 100 if i == len(counts) - 1 else i * 10 + 9
        bars.append(Bar(f"{low}-{high}", n, f"Score {low}-{high}: {n} call{'s' if n != 1 else ''}"))
    return bar_chart(name=name, label=label, bars=bars, x_title=x_title, y_title="Calls", integer=True)


def funnel_chart(*, name: str, label: str, stages: Sequence[tuple[str, int]]) -> SafeString:
    """Return a funnel of horizontal bars, each with its count and its share of the first stage."""
    if not stages or stages[0][1] == 0:
        return empty_chart(name=name, label=label)
    first = stages[0][1]
    row_h = 44
    height = TOP + row_h * len(stages) + 8
    label_w = 96
    bar_w = WIDTH - LEFT - label_w - RIGHT - 120
    rows = []
    for i, (stage, count) in enumerate(stages):
        percent = round(count * 100 / first)
        y = TOP + i * row_h
        width = bar_w * count / first
        x = LEFT + label_w + (bar_w - width) / 2
        text = f"{count:,} ({percent}%)"
        rows.append(
            format_html(
                '<text class="stage" x="{}" y="{}" dy="0.32em" text-anchor="end">{}</text>'
                '<rect class="bar funnel-{}" x="{}" y="{}" width="{}" height="{}" data-label="{}" data-value="{}" '
                'data-percent="{}"><title>{}: {} of {} dialed</title></rect>'
                '<text class="value" x="{}" y="{}" dy="0.32em">{}</text>',
                LEFT + label_w - 8,
                y + row_h / 2 - 4,
                stage,
                i,
                f"{x:.1f}",
                y,
                f"{max(width, 1):.1f}",
                row_h - 8,
                stage,
                count,
                percent,
                stage,
                text,
                first,
                LEFT + label_w + bar_w + 8,
                y + row_h / 2 - 4,
                text,
            )
        )
    return _svg(name, label, format_html_join("", "{}", ((r,) for r in rows)), height=height)


def line_chart(
    *,
    name: str,
    label: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    x_title: str,
    y_title: str,
    fmt: Formatter = _number,
    width: int = WIDTH,
) -> SafeString:
    """Return a line chart of several series over the same x labels; None values leave a gap.

    A chart across a whole page gets a larger `width` rather than being scaled up, text and all.
    """
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values:
        return empty_chart(name=name, label=label, width=width)
    top = nice_max(max(values))
    step = (width - LEFT - RIGHT) / len(x_labels)
    parts = [_grid(top, fmt, width)]
    parts += [_x_label(i, len(x_labels), LEFT + step * (i + 0.5), text) for i, text in enumerate(x_labels)]
    for s in series:
        parts.append(_line(s, x_labels, step, top, fmt))
    parts.append(_legend(series))
    parts.append(_axis_titles(x_title, y_title, width))
    return _svg(name, label, format_html_join("", "{}", ((p,) for p in parts)), width=width)


def _line(series: Series, x_labels: Sequence[str], step: float, top: float, fmt: Formatter) -> SafeString:
    # A gap (a day without a figure) starts a new segment instead of drawing through it.
    segments: list[list[str]] = [[]]
    points = []
    for i, value in enumerate(series.values):
        if value is None:
            segments.append([])
            continue
        x, y = LEFT + step * (i + 0.5), _y(value, top)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        points.append(
            format_html(
                '<circle class="point {}" cx="{}" cy="{}" r="3.5" data-series="{}" data-label="{}" data-value="{}">'
                "<title>{} {}: {}</title></circle>",
                series.css_class,
                f"{x:.1f}",
                f"{y:.1f}",
                series.name,
                x_labels[i],
                _raw(value),
                series.name,
                x_labels[i],
                fmt(value),
            )
        )
    lines = format_html_join(
        "",
        '<polyline class="line {}" points="{}"/>',
        ((series.css_class, " ".join(seg)) for seg in segments if len(seg) > 1),
    )
    return format_html("{}{}", lines, format_html_join("", "{}", ((p,) for p in points)))


def _legend(series: Sequence[Series]) -> SafeString:
    items = format_html_join(
        "",
        '<rect class="swatch {}" x="{}" y="{}" width="10" height="10"/><text class="legend" x="{}" y="{}">{}</text>',
        ((s.css_class, LEFT + 8 + i * 72, TOP + 2, LEFT + 22 + i * 72, TOP + 11, s.name) for i, s in enumerate(series)),
    )
    return format_html('<g class="legend">{}</g>', items)
