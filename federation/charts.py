"""Charts of a hub's suppressed tables as geometry for server-side SVG (no JavaScript): bars
for a table of one or two dimensions, a line for a trend by month; right to left mirrors them.

Only the figures a ``statistics.Table`` shows are drawn: a suppressed figure (None) gets no
bar and no point, only its "fewer than k" text, so a chart never says more than its table.
The SVG itself is written by ``federation/templates/hub/_charts.html``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 190  # room for a row's label beside its bars
VALUE_WIDTH = 50  # room for the figure after a bar
BAR = 18
GAP = 8
PLOT_HEIGHT = 220
PADDING = 36
# Colour-blind-safe (Okabe-Ito), dark enough for white text nowhere: bars carry no text.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")


@dataclass(frozen=True)
class Bar:
    label: str  # the row's label (first bar of a group), or ""
    value: int | None  # None: suppressed
    x: float
    y: float
    width: float
    colour: str
    label_x: float
    value_x: float
    series: str = ""


@dataclass
class Chart:
    """What a template needs to draw one chart."""

    kind: str  # "bars" or "line"
    title: str
    rtl: bool
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, label)
    points: list[tuple[float, float, str, int]] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)  # polyline "x,y x,y" pieces
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, month) on the axis
    gaps: list[tuple[float, str]] = field(default_factory=list)  # (x, month) suppressed
    axis_y: float = 0.0
    label_anchor: str = "end"
    value_anchor: str = "start"
    maximum: int = 0
    hidden: str = ""  # the text in place of a suppressed figure


def bars(table, title: str, label: Callable[[str, object], str], *, rtl: bool,
         hidden: str) -> Chart:
    """Horizontal bars, one group per row (one bar per column of a two-dimension table).
    ``label(dimension, key)`` names a row or column; ``hidden`` is the text of a suppressed
    figure ("fewer than k")."""
    two = len(table.dimensions) == 2
    columns = table.columns if two else [None]
    maximum = max([v for r in table.rows for c in columns
                   if (v := table.cell(r, c)) is not None] + [1])
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group = len(columns) * BAR + GAP
    chart = Chart("bars", title, rtl, WIDTH, PADDING + len(table.rows) * group + GAP,
                  label_anchor="start" if rtl else "end",
                  value_anchor="end" if rtl else "start", maximum=maximum, hidden=hidden)
    if two:
        chart.legend = [(PALETTE[i % len(PALETTE)], label(table.dimensions[1], c))
                        for i, c in enumerate(columns)]
    for number, row in enumerate(table.rows):
        top = PADDING + number * group
        for index, column in enumerate(columns):
            value = table.cell(row, column)
            length = 0 if value is None else plot * value / maximum
            start = WIDTH - LABEL_WIDTH - length if rtl else LABEL_WIDTH
            chart.bars.append(Bar(
                label=label(table.dimensions[0], row) if index == 0 else "",
                value=value, x=round(start, 1), y=top + index * BAR, width=round(length, 1),
                colour=PALETTE[index % len(PALETTE)],
                label_x=WIDTH - LABEL_WIDTH + 8 if rtl else LABEL_WIDTH - 8,
                value_x=round(start - 4 if rtl else start + length + 4, 1),
                series=label(table.dimensions[1], column) if two else ""))
    return chart


def line(table, title: str, *, rtl: bool, hidden: str) -> Chart:
    """The total of each month of a trend as a line; a suppressed month breaks it (a gap
    marked on the axis), it is never drawn as zero. Right to left, time runs leftwards."""
    months = [m for m in table.rows if m is not None]
    values = [table.row_total(m) for m in months]
    maximum = max([v for v in values if v is not None] + [1])
    chart = Chart("line", title, rtl, WIDTH, PLOT_HEIGHT + 2 * PADDING, maximum=maximum,
                  axis_y=PADDING + PLOT_HEIGHT, hidden=hidden)
    step = (WIDTH - 2 * PADDING) / max(len(months) - 1, 1)
    piece: list[str] = []
    every = max(1, len(months) // 8)  # at most about eight month labels on the axis
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        x = round(WIDTH - PADDING - index * step if rtl else PADDING + index * step, 1)
        if index % every == 0:
            chart.ticks.append((x, month))
        if value is None:
            chart.gaps.append((x, month))
            if piece:
                chart.segments.append(" ".join(piece))
            piece = []
            continue
        y = round(PADDING + PLOT_HEIGHT - PLOT_HEIGHT * value / maximum, 1)
        chart.points.append((x, y, month, value))
        piece.append(f"{x},{y}")
    if piece:
        chart.segments.append(" ".join(piece))
    return chart
