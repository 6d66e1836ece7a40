"""The dashboard's SVG charts: values in, coordinates and escaped text out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from tocsin.metrics.series import WeeklySeries
from tocsin.metrics.series_rules import WeekMean, weeks
from tocsin.web import charts
from tocsin.web.charts import Area, Box, Chart, Panel
from tocsin.web.ui_dashboard_views import mttr_chart

AREA = Area(left=50, top=20, right=250, bottom=120)  # 200 wide, 100 high
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("maximum", "expected"), [
    (0, [0, 1]),
    (3, [0, 1, 2, 3]),
    (7, [0, 2, 4, 6, 8]),
    (10, [0, 5, 10]),
    (42, [0, 20, 40, 60]),
    (0.3, [0, 0.1, 0.2, 0.3]),
    (1500, [0, 500, 1000, 1500]),
])  # fmt: skip
def test_ticks_are_round_numbers_reaching_the_maximum(maximum: float, expected: list[float]):
    assert charts.nice_ticks(maximum) == expected


def test_counts_get_whole_ticks():
    assert charts.nice_ticks(2, whole=True) == [0, 1, 2]
    assert charts.nice_ticks(2) == [0, 0.5, 1, 1.5, 2]


def test_values_map_from_the_bottom_up_and_stay_inside():
    assert charts.y_of(0, 10, AREA) == 120
    assert charts.y_of(10, 10, AREA) == 20
    assert charts.y_of(2.5, 10, AREA) == 95
    assert charts.y_of(30, 10, AREA) == 20  # clipped at the top, never outside
    assert charts.y_of(5, 0, AREA) == 120


def test_bands_share_the_width_with_a_gap_between():
    assert charts.band(0, 4, AREA) == (56.25, 37.5)
    assert charts.band(3, 4, AREA) == (206.25, 37.5)
    assert charts.band(0, 1, Area(0, 0, 400, 10)) == (160, 80)  # one bar is not a wall


def test_stacked_bars_sit_on_each_other_and_skip_zeros():
    bars = charts.stacked_bars([[2, 0], [3, 4]], AREA, top_value=10)

    assert bars == [
        charts.Bar(0, 0, 2, Box(62.5, 100, 75, 20)),
        charts.Bar(0, 1, 3, Box(62.5, 70, 75, 30)),
        charts.Bar(1, 1, 4, Box(162.5, 80, 75, 40)),
    ]


def test_a_panels_scale_reaches_its_tallest_stack_and_its_target():
    assert charts.panel_top(Panel("p", ["a", "b"], [[2, 1], [5, 0]])) == 8
    assert charts.panel_top(Panel("p", ["a"], [[2]], target=30)) == 30


def test_labels_thin_out_when_there_are_many_categories():
    assert charts.label_every(3, AREA) == 1  # 200 px hold three labels
    assert charts.label_every(4, AREA) == 2
    assert charts.label_every(53, Area(64, 0, 704, 100)) == 5


def test_every_text_is_escaped_and_the_svg_is_well_formed():
    hostile = '<script>alert("x")</script> & co'
    chart = Chart(id="c1", title=f"Pages {hostile}", description=hostile, legend=[hostile],
                  panels=[Panel(hostile, [hostile, "ok"], [[1, 2]], target=1.5,
                                target_label=hostile)])

    svg = charts.render(chart)

    assert "<script" not in svg
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own SVG; it must parse
    assert root.get("role") == "img"
    assert root.get("aria-label") == f"Pages {hostile}"
    assert root.find(f"{SVG}title").text == f"Pages {hostile}"
    assert root.find(f"{SVG}desc").text == hostile


def test_each_series_has_its_own_pattern_as_well_as_a_colour():
    chart = Chart(id="c2", title="t", description="d", legend=["a", "b", "c"],
                  panels=[Panel("p", ["x"], [[1], [1], [1]])])

    svg = charts.render(chart)

    patterns = re.findall(r'<pattern id="(c2-p\d)".*?</pattern>', svg)
    assert patterns == ["c2-p0", "c2-p1", "c2-p2"]
    bodies = re.findall(r"<pattern[^>]*>(.*?)</pattern>", svg)
    assert len({re.sub(r'fill="#[0-9A-F]+"', "", body) for body in bodies}) == 3
    assert svg.count('fill="url(#c2-p') == 6  # three legend swatches, three bars


def test_a_target_draws_a_dashed_line_at_its_value():
    chart = Chart(id="c3", title="t", description="d", legend=["mean"],
                  panels=[Panel("p", ["w1"], [[10]], target=20)])

    svg = charts.render(chart)

    area = charts.panel_area(0)
    y = charts.y_of(20, 20, area)
    assert f'x1="{area.left:.1f}" y1="{y:.1f}" x2="{area.right:.1f}" y2="{y:.1f}" ' \
           f"{charts.TARGET_LINE}" in svg


def test_long_names_are_shortened_on_the_axis_only():
    chart = Chart(id="c4", title="t", description="d", legend=["pages"],
                  panels=[Panel("p", ["Bartholomew Longname"], [[3]])])

    svg = charts.render(chart)

    assert ">Bartholom…</text>" in svg
    assert "<title>Bartholomew Longname: pages 3</title>" in svg


def test_a_chart_with_only_zeros_is_empty():
    assert Chart("c", "t", "d", ["a"], [Panel("p", ["x", "y"], [[0, 0]])]).empty
    assert not Chart("c", "t", "d", ["a"], [Panel("p", ["x", "y"], [[0, 1]])]).empty


def test_a_bars_tooltip_rounds_its_value():
    chart = Chart(id="c", title="T", description="D", legend=["mean"],
                  panels=[Panel("P", ["wk"], [[73.916666]])])

    titles = re.findall(r"<rect [^>]*><title>([^<]*)</title>", charts.render(chart))

    assert titles == ["wk: mean 73.9"]


def test_the_mttr_panel_says_minutes_or_hours_with_one_decimal():
    found = weeks(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC),
                  ZoneInfo("UTC"))
    mean = timedelta(minutes=73, seconds=55)
    series = WeeklySeries(found, ["SEV1", "SEV2"], {"SEV1": [1, 0], "SEV2": [0, 1]},
                          {"SEV1": [WeekMean(1, mean), WeekMean(0, None)],
                           "SEV2": [WeekMean(0, None), WeekMean(1, timedelta(hours=4))]},
                          {"SEV1": timedelta(minutes=30), "SEV2": None})

    chart, _table = mttr_chart(series, ZoneInfo("UTC"))
    titles = re.findall(r"<rect [^>]*><title>([^<]*)</title>", charts.render(chart))

    assert titles == ["02 Mar: over target 73.9 min", "09 Mar: within target 4.0 h"]
