"""Geometry of the dashboard's charts, drawn as SVG by the templates (no script, no chart library).
Each chart is shown with its numbers as a table beside it."""

from dataclasses import dataclass, field

BAR_HEIGHT = 22
LABEL_WIDTH = 170
PLOT_WIDTH = 380
VALUE_WIDTH = 70


@dataclass
class Shape:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    flagged: bool = False


@dataclass
class Chart:
    width: int
    height: int
    bars: list = field(default_factory=list)
    points: str = ""
    dots: list = field(default_factory=list)
    target: float | None = None  # x (horizontal bars) or y (columns, lines) of the target line
    axis: list = field(default_factory=list)  # (x or y, text) ticks


def horizontal_bars(items, *, maximum: float = 100, target: float | None = None, unit: str = "%") -> Chart:
    """One bar per (label, value); a vertical line marks the target."""
    items = list(items)
    scale = PLOT_WIDTH / maximum if maximum else 0
    chart = Chart(width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, height=max(len(items), 1) * BAR_HEIGHT + 20)
    for index, (label, value) in enumerate(items):
        value = value or 0
        chart.bars.append(Shape(x=LABEL_WIDTH, y=index * BAR_HEIGHT + 3, width=max(value * scale, 0),
                                height=BAR_HEIGHT - 6, label=str(label)[:24], value=f"{value:g}{unit}",
                                flagged=target is not None and value < target))
    if target is not None:
        chart.target = LABEL_WIDTH + target * scale
    chart.axis = [(LABEL_WIDTH + tick * scale, f"{tick:g}{unit}") for tick in (0, maximum / 2, maximum)]
    return chart


COLUMN_PLOT_HEIGHT = 160
COLUMN_LEFT = 40


def columns(items, *, unit: str = "") -> Chart:
    """Vertical bars (a histogram): one per (label, count)."""
    items = list(items)
    highest = max((value for _label, value in items), default=0) or 1
    width = 36
    chart = Chart(width=COLUMN_LEFT + len(items) * width + 10, height=COLUMN_PLOT_HEIGHT + 40)
    for index, (label, value) in enumerate(items):
        bar_height = COLUMN_PLOT_HEIGHT * value / highest
        chart.bars.append(Shape(x=COLUMN_LEFT + index * width + 3, y=10 + COLUMN_PLOT_HEIGHT - bar_height,
                                width=width - 6, height=bar_height, label=str(label), value=f"{value}{unit}"))
    chart.axis = [(10 + COLUMN_PLOT_HEIGHT * (1 - share), f"{highest * share:g}") for share in (0, 0.5, 1)]
    return chart


LINE_WIDTH = 560
LINE_HEIGHT = 180
LINE_LEFT = 44


def line(values, labels, *, maximum: float = 100, target: float | None = None, unit: str = "%") -> Chart:
    """A line through (label, value) points over 0..maximum, with an optional target line."""
    values = list(values)
    count = len(values)
    step = (LINE_WIDTH - LINE_LEFT - 30) / max(count - 1, 1)  # room for the last label

    def y(value):
        return 10 + LINE_HEIGHT * (1 - min(value or 0, maximum) / maximum) if maximum else 10 + LINE_HEIGHT

    chart = Chart(width=LINE_WIDTH, height=LINE_HEIGHT + 40)
    coordinates = [(LINE_LEFT + index * step, y(value)) for index, value in enumerate(values)]
    chart.points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coordinates)
    # Dots and labels only where they stay readable (a retention curve has a hundred points).
    every = max(count // 12, 1)
    shown = [i for i in range(count) if i % every == 0]
    if count and shown[-1] != count - 1 and count - 1 - shown[-1] > every // 2:
        shown.append(count - 1)
    chart.dots = [Shape(x=coordinates[i][0], y=coordinates[i][1], width=0, height=0, label=str(labels[i]),
                        value=f"{values[i]:g}{unit}") for i in shown]
    if target is not None:
        chart.target = y(target)
    chart.axis = [(y(maximum * share), f"{maximum * share:g}{unit}") for share in (0, 0.5, 1)]
    return chart
