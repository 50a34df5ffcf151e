"""The Unicode charts: what they draw, read back as plain text."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from adopt_tui.tui.widgets.charts import MARKERS, BarChart, TrendChart

MONTHS = ["Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct"]


class ChartApp(App):
    def compose(self) -> ComposeResult:
        yield TrendChart(id="trend")
        yield BarChart(id="bars")


def plain(widget) -> list[str]:
    return widget.render().plain.split("\n")


async def test_trend_chart_draws_axis_legend_labels_and_one_marker_per_point():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(TrendChart)
        chart.set_points(MONTHS, {
            "Deployment": [100.0] * 12,
            "Usage": [None, None, 10, 20, 30, 40, 50, 60, 70, 80, 90, 96.2],
        })
        await pilot.pause()
        lines = plain(chart)
        text = "\n".join(lines)
        assert lines[0].startswith(f"{MARKERS[0]} Deployment 100.0 %   {MARKERS[1]} Usage 96.2 %")
        assert "100 %┤" in text and "0 %┤" in text
        assert "└" in lines[-2] and lines[-2].count("┬") == 12
        for month in MONTHS:
            assert month in lines[-1]
        # one marker per value; the gap (None) draws nothing
        assert text.count(MARKERS[0]) == 12 + 1  # + the legend
        assert text.count(MARKERS[1]) == 10 + 1
        assert all(len(line) <= chart.size.width for line in lines)


async def test_trend_chart_marks_two_series_on_one_point():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(TrendChart)
        chart.set_points(["Sep", "Oct"], {"Deployment": [50.0, 80.0], "Usage": [50.0, 20.0]})
        await pilot.pause()
        text = chart.render().plain
        assert "✱ same point" in text.split("\n")[0]
        assert text.count("✱") == 2  # the point and the legend
        assert text.count(MARKERS[0]) == 2 and text.count(MARKERS[1]) == 2


async def test_trend_chart_extends_above_100_and_draws_the_reference_line():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(TrendChart)
        chart.set_points(["Sep", "Oct"], {"Usage": [90.0, 240.0]})
        await pilot.pause()
        text = "\n".join(plain(chart))
        assert "250 %┤" in text
        assert "┄" in text  # the 100 % line: above it is not good news
        assert "Usage 240.0 %" in text


async def test_trend_chart_empty_and_too_small():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(TrendChart)
        chart.set_points([], {"Usage": []})
        await pilot.pause()
        assert "No trend data" in chart.render().plain
        chart.set_points(["Oct"], {"Usage": [None]})
        await pilot.pause()
        assert "No trend data" in chart.render().plain
        chart.styles.height = 3
        chart.set_points(["Oct"], {"Usage": [50.0]})
        await pilot.pause()
        assert "Widen" in chart.render().plain or "Usage" in chart.render().plain


async def test_trend_chart_rejects_mismatched_series():
    app = ChartApp()
    async with app.run_test(size=(80, 24)):
        with pytest.raises(ValueError):
            app.query_one(TrendChart).set_points(["a", "b"], {"x": [1.0]})


async def test_bar_chart_scales_bars_to_the_largest_count():
    app = ChartApp()
    async with app.run_test(size=(60, 24)) as pilot:
        bars = app.query_one(BarChart)
        bars.set_bars([("0–25 %", 0), ("25–50 %", 5), ("50–75 %", 10), ("n/a", 1_234)])
        await pilot.pause()
        lines = plain(bars)
        assert len(lines) == 4
        assert lines[0].startswith("0–25 %      0")
        assert "█" not in lines[0]
        assert lines[3].startswith("n/a     1,234 ")
        full = lines[3].count("█")
        assert full == 60 - len("25–50 %") - len("1,234") - 2
        assert 0 < lines[1].count("█") + len(lines[1].rstrip()) - len(lines[1].rstrip("▏▎▍▌▋▊▉"))
        assert bars.size.height == 4


async def test_bar_chart_empty():
    app = ChartApp()
    async with app.run_test(size=(60, 24)) as pilot:
        bars = app.query_one(BarChart)
        bars.set_bars([])
        await pilot.pause()
        assert "Nothing to show" in bars.render().plain


async def test_trend_chart_zoom_spans_the_figures():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(TrendChart)
        chart.set_points(["Aug", "Sep", "Oct"], {"Deployment": [68.6, 71.0, 74.7]})
        await pilot.pause()
        assert "0 %┤" in chart.render().plain
        chart.set_zoom(True)
        await pilot.pause()
        text = chart.render().plain
        assert " 0 %┤" not in text and "100 %┤" not in text
        assert "80 %┤" in text and "66 %┤" in text
        rows = [line for line in text.split("\n") if MARKERS[0] in line][1:]
        assert len(rows) == 3  # three distinct rows: the rise is visible
