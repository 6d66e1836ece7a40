"""Bar charts as inline SVG, drawn on the server: no script, nothing fetched.

The geometry (scales, ticks, bar boxes) is pure functions of the values,
tested without a browser. A chart is one or more panels of stacked bars
sharing a legend; a panel may carry a dashed target line. Every series has
a pattern as well as a colour (Okabe-Ito's palette, told apart by most
colour-blind readers), so the chart reads in greyscale print too, and
every text drawn is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 720
PANEL_HEIGHT = 210
LEGEND_HEIGHT = 28
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 26, 36
LABEL_SPACE = 52  # pixels an x label needs so neighbours do not overlap
LABEL_CHARS = 10
MAX_BAR = 80
TARGET_LINE = 'stroke="#1b1f24" stroke-width="2" stroke-dasharray="7 4"'
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


@dataclass(frozen=True)
class Area:
    """The plot's rectangle in SVG pixels (y grows downwards)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    category: int
    series: int
    value: float
    box: Box


def nice_ticks(maximum: float, count: int = 4, *, whole: bool = False) -> list[float]:
    """Evenly spaced tick values from 0 to the first step of 1, 2 or 5 times a power of
    ten at or above `maximum`, about `count` steps; [0, 1] when there is nothing.
    `whole` keeps steps of at least 1, for counts."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    rough = max(maximum / count, 1.0) if whole else maximum / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    steps = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def y_of(value: float, top_value: float, area: Area) -> float:
    """The pixel row of `value` on a scale from 0 (the area's bottom) to `top_value`."""
    if top_value <= 0:
        return area.bottom
    share = min(max(value / top_value, 0.0), 1.0)
    return area.bottom - share * (area.bottom - area.top)


def band(index: int, count: int, area: Area, gap: float = 0.25) -> tuple[float, float]:
    """Left edge and width of the index-th of `count` equal bars across the area, with
    `gap` (a share of each slot) left between neighbours; no bar wider than MAX_BAR."""
    slot = (area.right - area.left) / count
    width = min(slot * (1 - gap), MAX_BAR)
    return area.left + index * slot + (slot - width) / 2, width


def stacked_bars(series: Sequence[Sequence[float]], area: Area, top_value: float,
                 ) -> list[Bar]:
    """One box per non-zero value; each category's series stack from the bottom up in
    the order given."""
    count = max((len(values) for values in series), default=0)
    bars: list[Bar] = []
    for category in range(count):
        x, width = band(category, count, area)
        base = 0.0
        for index, values in enumerate(series):
            value = values[category] if category < len(values) else 0.0
            if value <= 0:
                continue
            low, high = y_of(base, top_value, area), y_of(base + value, top_value, area)
            bars.append(Bar(category, index, value, Box(x, high, width, low - high)))
            base += value
    return bars


def label_every(count: int, area: Area) -> int:
    """Label every n-th category so that labels keep LABEL_SPACE apart."""
    room = max(1, int((area.right - area.left) // LABEL_SPACE))
    return max(1, math.ceil(count / room))


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Panel:
    title: str
    categories: Sequence[str]
    series: Sequence[Sequence[float]]  # one sequence per legend entry, a value per category
    tick_label: Callable[[float], str] = lambda value: f"{value:g}"
    target: float | None = None
    target_label: str = ""
    whole: bool = False  # the values are counts: no tick between whole numbers
    # How a bar's own value reads in its tooltip; default one decimal at most.
    value_label: Callable[[float], str] = lambda value: f"{round(value, 1):g}"

    @property
    def empty(self) -> bool:
        return not any(value > 0 for values in self.series for value in values)


@dataclass(frozen=True)
class Chart:
    id: str  # unique on the page: the patterns' ids start with it
    title: str
    description: str
    legend: Sequence[str]
    panels: Sequence[Panel] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return all(panel.empty for panel in self.panels)


def panel_area(index: int) -> Area:
    top = LEGEND_HEIGHT + index * PANEL_HEIGHT
    return Area(MARGIN_LEFT, top + MARGIN_TOP, WIDTH - MARGIN_RIGHT,
                top + PANEL_HEIGHT - MARGIN_BOTTOM)


def panel_top(panel: Panel) -> float:
    stacked = [sum(values[i] for values in panel.series if i < len(values))
               for i in range(len(panel.categories))]
    return nice_ticks(max([*stacked, panel.target or 0.0], default=0.0),
                      whole=panel.whole)[-1]


def render(chart: Chart) -> str:
    """The chart as an <svg> element, labelled for screen readers."""
    height = LEGEND_HEIGHT + PANEL_HEIGHT * len(chart.panels)
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{_e(chart.title)}" aria-labelledby="{title_id}" '
        f'aria-describedby="{desc_id}" id="{_e(chart.id)}" font-size="12">',
        f'<title id="{title_id}">{_e(chart.title)}</title>',
        f'<desc id="{desc_id}">{_e(chart.description)}</desc>',
        _patterns(chart), _legend(chart),
    ]
    for index, panel in enumerate(chart.panels):
        parts.append(_panel(chart, panel, panel_area(index)))
    parts.append("</svg>")
    return "\n".join(parts)


def fill(chart: Chart, series: int) -> str:
    return f"url(#{chart.id}-p{series})"


def _patterns(chart: Chart) -> str:
    """Solid, diagonal lines, dots, cross-hatch...: one pattern per series."""
    shapes = ("", '<path d="M0,8 L8,0" stroke="#fff" stroke-width="2"/>',
              '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
              '<path d="M0,8 L8,0 M0,0 L8,8" stroke="#fff" stroke-width="1.5"/>',
              '<path d="M0,4 L8,4" stroke="#fff" stroke-width="2"/>',
              '<path d="M4,0 L4,8" stroke="#fff" stroke-width="2"/>')
    defs = [f'<pattern id="{chart.id}-p{i}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f"{shapes[i % len(shapes)]}</pattern>" for i in range(len(chart.legend))]
    return "<defs>" + "".join(defs) + "</defs>"


def _legend(chart: Chart) -> str:
    items, x = [], float(MARGIN_LEFT)
    for index, name in enumerate(chart.legend):
        items.append(f'<rect x="{x:.1f}" y="6" width="16" height="12" fill="{fill(chart, index)}"'
                     f' stroke="#1b1f24"/><text x="{x + 22:.1f}" y="16">{_e(name)}</text>')
        x += 34 + 7.5 * len(name)
    if any(panel.target is not None for panel in chart.panels):
        items.append(f'<line x1="{x:.1f}" y1="12" x2="{x + 18:.1f}" y2="12" {TARGET_LINE}/>'
                     f'<text x="{x + 24:.1f}" y="16">target</text>')
    return '<g class="legend" aria-hidden="true">' + "".join(items) + "</g>"


def _panel(chart: Chart, panel: Panel, area: Area) -> str:
    top_value = panel_top(panel)
    parts = [f'<g class="panel"><text class="panel-title" x="{area.left:.1f}" '
             f'y="{area.top - 8:.1f}">{_e(panel.title)}</text>']
    for value in nice_ticks(top_value, whole=panel.whole):
        y = y_of(value, top_value, area)
        parts.append(f'<line stroke="#d5d9e0" x1="{area.left:.1f}" y1="{y:.1f}" '
                     f'x2="{area.right:.1f}" y2="{y:.1f}"/><text class="tick" '
                     f'x="{area.left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{_e(panel.tick_label(value))}</text>")
    for bar in stacked_bars(panel.series, area, top_value):
        box = bar.box
        name = panel.categories[bar.category]
        parts.append(f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
                     f'height="{box.height:.1f}" fill="{fill(chart, bar.series)}" '
                     f'stroke="#1b1f24" stroke-width="0.5"><title>{_e(name)}: '
                     f"{_e(chart.legend[bar.series])} {_e(panel.value_label(bar.value))}"
                     "</title></rect>")
    every = label_every(len(panel.categories), area)
    for index, name in enumerate(panel.categories):
        if index % every:
            continue
        x, width = band(index, len(panel.categories), area)
        parts.append(f'<text class="tick" x="{x + width / 2:.1f}" y="{area.bottom + 16:.1f}" '
                     f'text-anchor="middle">{_e(short(name))}</text>')
    if panel.target is not None:
        y = y_of(panel.target, top_value, area)
        parts.append(f'<line x1="{area.left:.1f}" y1="{y:.1f}" '
                     f'x2="{area.right:.1f}" y2="{y:.1f}" {TARGET_LINE}>'
                     f"<title>{_e(panel.target_label)}</title></line>")
    parts.append(f'<line stroke="#1b1f24" x1="{area.left:.1f}" y1="{area.bottom:.1f}" '
                 f'x2="{area.right:.1f}" y2="{area.bottom:.1f}"/></g>')
    return "".join(parts)


def _e(text: str) -> str:
    return escape(text, quote=True)
