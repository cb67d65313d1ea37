from __future__ import annotations

import xml.etree.ElementTree as ET

from dashboard import charts
from tests.dashboard.conftest import SVG


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_it_draws_one_bar_per_value_with_its_tooltip() -> None:
    svg = parse(
        charts.bar_chart(
            name="calls-per-day",
            label="Calls per day",
            bars=[charts.Bar("Mar 2", 2, "2 calls"), charts.Bar("Mar 3", 0), charts.Bar("Mar 4", 5)],
            x_title="Day",
            y_title="Calls",
            integer=True,
        )
    )
    assert svg.get("data-chart") == "calls-per-day"
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "Calls per day"
    rects = list(svg.iter(f"{SVG}rect"))
    assert [(r.get("data-label"), r.get("data-value")) for r in rects] == [
        ("Mar 2", "2"),
        ("Mar 3", "0"),
        ("Mar 4", "5"),
    ]
    assert rects[0].findtext(f"{SVG}title") == "2 calls"
    assert rects[1].findtext(f"{SVG}title") == "Mar 3: 0"
    # The tallest bar reaches the top of the 0-5 axis; the others scale with it.
    heights = [float(r.get("height", "")) for r in rects]
    assert heights[1] == 0
    assert heights[0] == round(heights[2] * 2 / 5, 1)


def test_it_labels_count_axes_with_whole_numbers() -> None:
    svg = parse(
        charts.bar_chart(name="c", label="c", bars=[charts.Bar("a", 1)], x_title="x", y_title="y", integer=True)
    )
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick" and t.get("text-anchor") == "end"]
    assert ticks == ["0", "1", "2", "3", "4", "5"]


def test_it_leaves_a_gap_for_a_bar_without_a_value() -> None:
    svg = parse(
        charts.bar_chart(
            name="cost", label="Cost", bars=[charts.Bar("a", None), charts.Bar("b", 0.5)], x_title="x", y_title="y"
        )
    )
    assert [r.get("data-label") for r in svg.iter(f"{SVG}rect")] == ["b"]


def test_it_shows_an_empty_state_without_data() -> None:
    for markup in (
        charts.bar_chart(name="calls-per-day", label="Calls", bars=[], x_title="x", y_title="y"),
        charts.bar_chart(name="calls-per-day", label="Calls", bars=[charts.Bar("a", 0)], x_title="x", y_title="y"),
        charts.funnel_chart(name="calls-per-day", label="Calls", stages=[("Dialed", 0), ("Reached", 0)]),
        charts.line_chart(
            name="calls-per-day",
            label="Calls",
            x_labels=["a"],
            series=[charts.Series("p50", [None], "p50")],
            x_title="x",
            y_title="y",
        ),
        charts.histogram(name="calls-per-day", label="Calls", counts=[0] * 10),
    ):
        svg = parse(markup)
        assert svg.get("data-chart") == "calls-per-day"
        assert svg.get("data-empty") == "true"
        assert "No calls yet" in "".join(svg.itertext())
        assert not list(svg.iter(f"{SVG}rect"))


def test_it_escapes_labels() -> None:
    evil = '<script>alert("x")</script>&'
    markup = charts.bar_chart(name="n", label=evil, bars=[charts.Bar(evil, 3, evil)], x_title=evil, y_title="y")
    assert "<script>" not in markup
    svg = parse(markup)  # still well-formed XML
    assert svg.get("aria-label") == evil
    rect = next(svg.iter(f"{SVG}rect"))
    assert rect.get("data-label") == evil
    assert rect.findtext(f"{SVG}title") == evil


def test_the_funnel_gives_each_stage_its_count_and_share_of_the_first() -> None:
    svg = parse(
        charts.funnel_chart(
            name="funnel", label="Funnel", stages=[("Dialed", 8), ("Reached", 4), ("Qualified", 2), ("Booked", 1)]
        )
    )
    rects = list(svg.iter(f"{SVG}rect"))
    assert [(r.get("data-label"), r.get("data-value"), r.get("data-percent")) for r in rects] == [
        ("Dialed", "8", "100"),
        ("Reached", "4", "50"),
        ("Qualified", "2", "25"),
        ("Booked", "1", "12"),
    ]
    assert "4 (50%)" in "".join(svg.itertext())
    widths = [float(r.get("width", "")) for r in rects]
    assert widths[1] == widths[0] / 2


def test_the_histogram_has_ten_buckets_of_ten_points() -> None:
    counts = [0, 0, 0, 0, 0, 1, 0, 2, 3, 1]
    svg = parse(charts.histogram(name="scores", label="Scores", counts=counts))
    rects = list(svg.iter(f"{SVG}rect"))
    assert [r.get("data-label") for r in rects] == [f"{i * 10}-{i * 10 + 9}" for i in range(9)] + ["90-100"]
    assert [int(r.get("data-value", "")) for r in rects] == counts
    assert rects[8].findtext(f"{SVG}title") == "Score 80-89: 3 calls"


def test_the_line_chart_draws_a_point_per_value_and_breaks_at_gaps() -> None:
    svg = parse(
        charts.line_chart(
            name="latency",
            label="Latency",
            x_labels=["Mar 2", "Mar 3", "Mar 4"],
            series=[charts.Series("p50", [500, None, 700], "p50"), charts.Series("p95", [900, 950, 1200], "p95")],
            x_title="Day",
            y_title="ms",
        )
    )
    points = [(c.get("data-series"), c.get("data-label"), c.get("data-value")) for c in svg.iter(f"{SVG}circle")]
    assert points == [
        ("p50", "Mar 2", "500"),
        ("p50", "Mar 4", "700"),
        ("p95", "Mar 2", "900"),
        ("p95", "Mar 3", "950"),
        ("p95", "Mar 4", "1200"),
    ]
    lines = [p.get("class") for p in svg.iter(f"{SVG}polyline")]
    # p50's two points are not joined across the missing day; p95 is one line.
    assert lines == ["line p95"]


def test_nice_max_rounds_up_to_a_round_number() -> None:
    assert [charts.nice_max(v) for v in (0, 0.03, 1, 3, 7, 12, 240, 1300)] == [1, 0.05, 1, 5, 10, 20, 250, 2000]
