"""Charts drawn with Unicode characters: a percentage trend and horizontal bars.

Drawn by hand rather than with textual-plotext: at 80x24 a character grid
with one marker per month reads more crisply than plotext's braille canvas,
the output is deterministic (snapshot tests), and every series keeps a
distinct marker character so the chart still reads without colour
(``NO_COLOR``, monochrome terminals, screen readers reading text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

MARKERS = ("●", "▲", "■", "◆")
LINK = "·"  # the dots between two markers of one series
REFERENCE = "┄"  # the 100 % line, drawn when a series goes above it
OVERLAP = "✱"  # two series on one cell: neither hides the other silently
EIGHTHS = " ▏▎▍▌▋▊▉"
NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass(frozen=True)
class _Series:
    name: str
    values: tuple[float | None, ...]


def _fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} %"


def _nice_top(maximum: float) -> float:
    """0..100 % for ordinary figures; beyond 100 % rounded up to a step of 25 or more."""
    if maximum <= 100:
        return 100.0
    step = 25 if maximum <= 200 else 50 if maximum <= 500 else 100 if maximum <= 1000 else 10 ** math.floor(math.log10(maximum))
    return float(math.ceil(maximum / step) * step)


def _zoomed_range(low: float, high: float) -> tuple[float, float]:
    """A y range around the data (multiples of 5 %, at least 10 points wide)."""
    pad = max(2.0, (high - low) * 0.1)
    bottom = max(0.0, math.floor((low - pad) / 5) * 5)
    top = math.ceil((high + pad) / 5) * 5
    if top - bottom < 10:
        top = bottom + 10
    return float(bottom), float(top)


def _tick_step(span: float, rows: int) -> float:
    """The smallest nice step that leaves at least one empty row between ticks."""
    for step in NICE_STEPS:
        if span / step <= max(1, (rows - 1) / 2):
            return float(step)
    return span


class TrendChart(Widget):
    """A line chart of percentages over time (e.g. 12 months).

    ``set_points(labels, series)``: one label per point, and per series a list
    of values (None where there is no figure: a gap, not a zero).
    """

    DEFAULT_CSS = """
    TrendChart {
        height: 1fr;
        min-height: 8;
        width: 1fr;
    }
    TrendChart > .trendchart--axis { color: $text-muted; }
    TrendChart > .trendchart--label { color: $text-muted; }
    TrendChart > .trendchart--series-0 { color: $primary; text-style: bold; }
    TrendChart > .trendchart--series-1 { color: $warning; text-style: bold; }
    TrendChart > .trendchart--series-2 { color: $success; text-style: bold; }
    TrendChart > .trendchart--series-3 { color: $accent; text-style: bold; }
    TrendChart > .trendchart--empty { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {
        "trendchart--axis", "trendchart--label", "trendchart--empty",
        "trendchart--series-0", "trendchart--series-1", "trendchart--series-2", "trendchart--series-3",
    }

    def __init__(self, *, empty_text: str = "No trend data yet.", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text
        self._labels: tuple[str, ...] = ()
        self._series: tuple[_Series, ...] = ()
        self.zoomed = False  # False: the y axis starts at 0 %; True: it spans the data

    def set_zoom(self, zoomed: bool) -> None:
        self.zoomed = bool(zoomed)
        self.refresh()

    # ------------------------------------------------------------------ data

    def set_points(self, labels: list[str], series: dict[str, list[float | None]]) -> None:
        """Replace the data. Each series must have one value per label (None = gap)."""
        if len(series) > len(MARKERS):
            raise ValueError(f"at most {len(MARKERS)} series")
        for name, values in series.items():
            if len(values) != len(labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
        self._labels = tuple(str(label) for label in labels)
        self._series = tuple(
            _Series(name, tuple(None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                                for v in values))
            for name, values in series.items()
        )
        self.refresh()

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def series_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._series)

    # ------------------------------------------------------------------ drawing

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _legend(self, width: int) -> list[Text]:
        """Legend entries with each series' latest value, wrapped to the width."""
        lines: list[Text] = [Text()]
        for index, s in enumerate(self._series):
            latest = next((v for v in reversed(s.values) if v is not None), None)
            entry = Text()
            entry.append(MARKERS[index], self._style(f"trendchart--series-{index}"))
            entry.append(f" {s.name} {_fmt_pct(latest)}")
            gap = 3 if lines[-1].cell_len else 0
            if lines[-1].cell_len and lines[-1].cell_len + gap + entry.cell_len > width:
                lines.append(Text())
                gap = 0
            lines[-1].append(" " * gap)
            lines[-1].append_text(entry)
        return lines

    def render(self) -> RenderableType:
        width, height = self.size.width, self.size.height
        values = [v for s in self._series for v in s.values if v is not None]
        if not self._labels or not values:
            return Text(self.empty_text, style=self._style("trendchart--empty"), no_wrap=True)
        legend = self._legend(width)
        rows = height - len(legend) - 2  # the x axis and its labels
        if self.zoomed:
            bottom, top = _zoomed_range(min(values), max(values))
        else:
            bottom, top = 0.0, _nice_top(max(values))
        y_labels = {}
        if rows >= 3:
            step = _tick_step(top - bottom, rows)
            tick = math.ceil(bottom / step) * step
            while tick <= top + 1e-9:
                y_labels[self._row(tick, bottom, top, rows)] = f"{tick:,.0f} %"
                tick += step
        label_w = max((len(t) for t in y_labels.values()), default=5)
        plot_w = width - label_w - 1
        n = len(self._labels)
        if rows < 3 or plot_w < n:
            return Text("Widen the terminal to see the chart.", style=self._style("trendchart--empty"), no_wrap=True)

        xs = [int((i + 0.5) * plot_w / n) for i in range(n)]
        grid: list[list[tuple[str, str | None]]] = [[(" ", None)] * plot_w for _ in range(rows)]
        if top > 100 >= bottom:
            r100 = self._row(100.0, bottom, top, rows)
            grid[r100] = [(REFERENCE, "trendchart--axis")] * plot_w
        # links first, then markers on top of them
        for index, s in enumerate(self._series):
            cls = f"trendchart--series-{index}"
            for i in range(n - 1):
                a, b = s.values[i], s.values[i + 1]
                if a is None or b is None:
                    continue
                for x in range(xs[i] + 1, xs[i + 1]):
                    t = (x - xs[i]) / (xs[i + 1] - xs[i])
                    grid[self._row(a + (b - a) * t, bottom, top, rows)][x] = (LINK, cls)
        overlap = False
        for index, s in enumerate(self._series):
            cls = f"trendchart--series-{index}"
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                row = self._row(v, bottom, top, rows)
                if grid[row][xs[i]][0] in MARKERS or grid[row][xs[i]][0] == OVERLAP:
                    grid[row][xs[i]] = (OVERLAP, "trendchart--label")
                    overlap = True
                else:
                    grid[row][xs[i]] = (MARKERS[index], cls)
        if overlap:
            legend[-1].append(f"   {OVERLAP} same point")

        # one style lookup per class, and one span per run of cells of a class: a span
        # per cell (80 x 20) made the chart the slowest widget of a customer's insights
        styles: dict[str | None, Style | None] = {None: None}

        def style_of(cls: str | None) -> Style | None:
            if cls not in styles:
                styles[cls] = self._style(cls)
            return styles[cls]

        axis = style_of("trendchart--axis")
        label_style = style_of("trendchart--label")
        out = Text(no_wrap=True, overflow="crop")
        for line in legend:
            out.append_text(line)
            out.append("\n")
        for r in range(rows):
            label = y_labels.get(r)
            out.append((label or "").rjust(label_w), label_style)
            out.append("┤" if label else "│", axis)
            run: list[str] = []
            run_cls: str | None = None
            for char, cls in grid[r]:
                if run and cls != run_cls:
                    out.append("".join(run), style_of(run_cls))
                    run = []
                run.append(char)
                run_cls = cls
            if run:
                out.append("".join(run), style_of(run_cls))
            out.append("\n")
        bottom = ["─"] * plot_w
        for x in xs:
            bottom[x] = "┬"
        out.append(" " * label_w + "└" + "".join(bottom), axis)
        out.append("\n")
        out.append(" " * (label_w + 1))
        out.append(self._x_labels(xs, plot_w), self._style("trendchart--label"))
        return out

    def _x_labels(self, xs: list[int], plot_w: int) -> str:
        """Labels centred under their ticks; a label that would touch its neighbour is left out,
        but the last one (the latest month) is always kept."""
        line = [" "] * plot_w
        placed: list[tuple[int, int]] = []
        order = [len(xs) - 1] + list(range(len(xs) - 1))
        for i in order:
            label = self._labels[i]
            start = min(max(0, xs[i] - (len(label) - 1) // 2), plot_w - len(label))
            end = start + len(label)
            if start < 0 or any(start <= e and end >= s for s, e in placed):
                continue
            placed.append((start, end))
            line[start:end] = label
        return "".join(line)

    @staticmethod
    def _row(value: float, bottom: float, top: float, rows: int) -> int:
        value = min(max(value, bottom), top)
        return int(round((top - value) / (top - bottom) * (rows - 1)))


class BarChart(Widget):
    """Horizontal bars with a label and a count each.

    ``set_bars([(label, count), ...])``; ``warn`` names labels drawn in the
    warning style (e.g. usage above 100 %, which is not good news).
    """

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        min-height: 3;
        width: 1fr;
    }
    BarChart > .barchart--bar { color: $primary; }
    BarChart > .barchart--warn { color: $warning; }
    BarChart > .barchart--label { color: $text; }
    BarChart > .barchart--count { color: $text; text-style: bold; }
    BarChart > .barchart--empty { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {"barchart--bar", "barchart--warn", "barchart--label", "barchart--count", "barchart--empty"}

    def __init__(self, *, empty_text: str = "Nothing to show.", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text
        self._bars: tuple[tuple[str, int], ...] = ()
        self._warn: frozenset[str] = frozenset()

    def set_bars(self, bars: list[tuple[str, int]], *, warn: set[str] | frozenset[str] = frozenset()) -> None:
        self._bars = tuple((str(label), int(count)) for label, count in bars)
        self._warn = frozenset(warn)
        self.refresh(layout=True)

    @property
    def bars(self) -> tuple[tuple[str, int], ...]:
        return self._bars

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self._bars))

    def render(self) -> RenderableType:
        style = lambda name: self.get_component_rich_style(name, partial=True)  # noqa: E731
        if not self._bars:
            return Text(self.empty_text, style=style("barchart--empty"), no_wrap=True)
        width = self.size.width
        label_w = max(len(label) for label, _ in self._bars)
        counts = [f"{count:,}" for _, count in self._bars]
        count_w = max(len(c) for c in counts)
        bar_w = max(1, width - label_w - count_w - 2)
        biggest = max((count for _, count in self._bars), default=0)
        out = Text(no_wrap=True, overflow="crop")
        for (label, count), shown in zip(self._bars, counts):
            eighths = 0 if biggest <= 0 else round(count / biggest * bar_w * 8)
            if count > 0:
                eighths = max(1, eighths)
            bar = "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
            out.append(label.ljust(label_w), style("barchart--label"))
            out.append(" ")
            out.append(shown.rjust(count_w), style("barchart--count"))
            out.append(" ")
            out.append(bar, style("barchart--warn" if label in self._warn else "barchart--bar"))
            out.append("\n")
        out.rstrip()
        return out
