"""The SVG line chart's time axis: labels as fine as the span needs, never repeated."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from apps.core.charts import Series, line_chart


def axis_labels(svg: str) -> list[str]:
    return re.findall(
        r'y="\d+" text-anchor="(?:start|middle|end)" class="cp-chart-axis">([^<]+)<', svg
    )


def chart_over(span: timedelta) -> str:
    start = datetime(2026, 12, 1, 18, 29, 0, tzinfo=UTC)
    points = [(start + span * i / 4, Decimal(100 + i)) for i in range(5)]
    return str(line_chart([Series("USD", points)]))


def test_a_chart_of_two_minutes_labels_its_ticks_in_seconds():
    labels = axis_labels(chart_over(timedelta(minutes=2)))
    # then: "18:29:00 ... 18:31:00", not "18:29 18:29 18:29 18:30 18:30 18:31"
    assert labels[0] == "18:29:00" and labels[-1] == "18:31:00"
    assert len(labels) == len(set(labels)) == 6


def test_no_time_appears_twice_on_the_axis():
    for span in (
        timedelta(seconds=3),
        timedelta(minutes=20),
        timedelta(days=3),
        timedelta(days=400),
    ):
        labels = axis_labels(chart_over(span))
        assert labels, span
        assert all(a != b for a, b in zip(labels, labels[1:], strict=False)), (span, labels)


def test_a_day_is_labelled_in_hours_and_minutes():
    labels = axis_labels(chart_over(timedelta(hours=24)))
    assert labels[0] == "18:29" and labels[-1] == "18:29"  # a day later, same time
    assert len(labels) == 6
