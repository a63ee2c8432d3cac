"""The dashboard's inline SVG charts: exact scales and coordinates, escaped text."""

import re
from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from loyalty.admin.charts import Series, line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ElementTree.Element:
    # ElementTree needs the namespace to be declared to read the markup as SVG.
    return ElementTree.fromstring(
        markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


@pytest.mark.parametrize(
    ("largest", "ceiling"),
    [(0, 4), (3, 4), (5, 8), (9, 20), (100, 100), (101, 200), (1234, 2000), (7_900, 8_000)],
)
def test_the_scale_ends_at_a_round_number_that_splits_into_four_whole_steps(largest, ceiling):
    assert nice_ceiling(largest) == ceiling
    assert ceiling % 4 == 0


def test_three_days_of_two_lines_land_on_exact_coordinates():
    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]

    markup = line_chart(
        chart_id="issued",
        title="Points issued and redeemed",
        description="Issued 0 to 100, redeemed 0 to 50.",
        days=days,
        series=[
            Series("Issued", [0, 100, 50], "issued"),
            Series("Redeemed", [Decimal(0), Decimal(25), Decimal(50)], "redeemed"),
        ],
        width=256,
        height=140,
    )

    svg = parsed(markup)
    # Plot: x from 56 to 244 (256 - 12), y from 12 (value 100) down to 112 (value 0).
    lines = svg.findall(f"{SVG}polyline")
    assert [line.get("points") for line in lines] == [
        "56,112 150,12 244,62",
        "56,112 150,87 244,62",
    ]
    assert [line.get("class") for line in lines] == [
        "chart-line chart-issued",
        "chart-line chart-redeemed",
    ]
    assert [line.find(f"{SVG}title").text for line in lines] == ["Issued", "Redeemed"]
    axis = [t.text for t in svg.findall(f"{SVG}text")]
    assert axis == ["0", "25", "50", "75", "100", "Nov 1", "Nov 2", "Nov 3"]


def test_the_chart_is_an_image_named_by_its_title_and_description():
    markup = line_chart(
        chart_id="outstanding",
        title="Outstanding points",
        description="From 10 to 20.",
        days=[date(2026, 11, 1), date(2026, 11, 2)],
        series=[Series("Outstanding", [10, 20], "outstanding")],
    )

    svg = parsed(markup)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "outstanding-title outstanding-desc"
    assert svg.find(f"{SVG}title").get("id") == "outstanding-title"
    assert svg.find(f"{SVG}title").text == "Outstanding points"
    assert svg.find(f"{SVG}desc").text == "From 10 to 20."
    # Sized up front, so the page does not move when it is drawn.
    assert (svg.get("width"), svg.get("height"), svg.get("viewBox")) == (
        "640",
        "220",
        "0 0 640 220",
    )


def test_names_and_titles_are_escaped():
    markup = line_chart(
        chart_id="x",
        title="<script>alert(1)</script>",
        description="a & b",
        days=[date(2026, 11, 1)],
        series=[Series('"><img src=x>', [1], "issued")],
    )

    assert "<script>" not in markup
    assert "<img" not in markup
    assert "&lt;script&gt;" in markup
    assert "a &amp; b" in markup


def test_one_day_sits_in_the_middle_and_no_days_draws_only_the_scale():
    one = parsed(
        line_chart(
            chart_id="one",
            title="t",
            description="d",
            days=[date(2026, 11, 5)],
            series=[Series("Issued", [8], "issued")],
            width=256,
            height=140,
        )
    )
    assert one.find(f"{SVG}polyline").get("points") == "150,12"

    none = parsed(line_chart(chart_id="none", title="t", description="d", days=[], series=[]))
    assert none.findall(f"{SVG}polyline") == []
    assert [t.text for t in none.findall(f"{SVG}text")] == ["0", "1", "2", "3", "4"]


def test_thirty_days_label_the_first_middle_and_last_day():
    days = [date(2026, 10, 20) + timedelta(days=i) for i in range(30)]

    markup = line_chart(
        chart_id="month",
        title="t",
        description="d",
        days=days,
        series=[Series("Issued", [i * 1000 for i in range(30)], "issued")],
    )

    labels = re.findall(r'text-anchor="(\w+)">([A-Z][a-z]{2} \d+)<', markup)
    assert labels == [("start", "Oct 20"), ("middle", "Nov 3"), ("end", "Nov 18")]
    # 29,000 at most: the scale ends at 40,000 in steps of 10,000.
    assert re.findall(r'text-anchor="end">([\d,]+)<', markup) == [
        "0",
        "10,000",
        "20,000",
        "30,000",
        "40,000",
    ]
