"""Charts and maps drawn with matplotlib: SVG for the HTML, PNG for the PDF.

Figures are made without pyplot (no global state, safe in the API's worker threads) and in
DejaVu Sans, matplotlib's own font, which has every Kazakh and Russian letter. SVG text is
drawn as outlines, so the page shows the same letters wherever it is opened.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterator
from typing import Any

import shapely.geometry
from matplotlib import colormaps, rc_context
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator

from safecity.insights.reports.document import Chart, Map, Picture

WIDTH_IN = 6.8
"""The text width of an A4 page with 18 mm margins."""
INK = "#1d2733"
MUTED = "#6b7785"
GRID = "#d9dee4"
SERIES_COLOURS = ("#9aa7b5", "#1f4e79", "#c2703d", "#3f8f6b")
"""The comparison first in grey, the period itself in the report's blue."""
COLOUR_MAP = "Blues"
NO_VALUE = "#eceff2"
PNG_DPI = 200
LABEL_WIDTH = 14
"""A district's name on the map wraps at this many characters."""

_STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "svg.fonttype": "path",
    # A district called "A$1$" is a name, not a formula.
    "text.parse_math": False,
    "svg.hashsalt": "safecity-report",
}


def chart_figure(chart: Chart) -> Figure:
    with rc_context(_STYLE):
        horizontal = chart.kind == "barh"
        height = 1.2 + 0.32 * len(chart.categories) * max(1, len(chart.series)) / 1.5
        figure = Figure(figsize=(WIDTH_IN, min(8.0, height) if horizontal else 3.0))
        axes = figure.add_subplot()
        axes.set_title(chart.title)
        positions = list(range(len(chart.categories)))
        count = max(1, len(chart.series))
        width = 0.8 / count
        for index, series in enumerate(chart.series):
            colour = SERIES_COLOURS[1] if count == 1 else SERIES_COLOURS[index % 4]
            if chart.kind == "line":
                axes.plot(positions, series.values, marker="o", color=colour, label=series.name)
                continue
            offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
            if horizontal:
                bars = axes.barh(
                    offsets, series.values, height=width, color=colour, label=series.name
                )
            else:
                bars = axes.bar(
                    offsets, series.values, width=width, color=colour, label=series.name
                )
            axes.bar_label(
                bars,
                labels=[f"{v:,.0f}" for v in series.values],
                padding=2,
                fontsize=7,
                color=MUTED,
            )
        value_axis = axes.xaxis if horizontal else axes.yaxis
        value_axis.grid(True, color=GRID, linewidth=0.6)
        value_axis.set_major_locator(MaxNLocator(integer=True))  # counts: no half cameras
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        if horizontal:
            axes.set_yticks(positions, chart.categories)
            axes.invert_yaxis()
            axes.set_xlabel(chart.y_label)
            axes.margins(x=0.12)
        else:
            axes.set_xticks(
                positions,
                chart.categories,
                rotation=30 if len(chart.categories) > 6 else 0,
                ha="right" if len(chart.categories) > 6 else "center",
            )
            axes.set_ylabel(chart.y_label)
            axes.margins(y=0.12)
        if len(chart.series) > 1:
            # Above the plot at the right, level with the title: never over a bar.
            axes.legend(
                frameon=False,
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                ncols=len(chart.series),
                borderaxespad=0.2,
            )
        figure.tight_layout()
        return figure


def _rings(geometry: dict[str, Any]) -> Iterator[list[tuple[float, float]]]:
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    for polygon in polygons:
        yield [(float(x), float(y)) for x, y, *_ in polygon[0]]


def map_figure(drawn: Map) -> Figure:
    """District outlines coloured by value; longitudes shrunk by the cosine of the latitude
    so that the city keeps its shape."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, 4.8))
        axes = figure.add_subplot()
        axes.set_title(drawn.title)
        values = [area.value for area in drawn.areas if area.value is not None]
        norm = Normalize(vmin=0, vmax=max(values) if values and max(values) > 0 else 1)
        colours = colormaps[COLOUR_MAP]
        latitudes = [y for area in drawn.areas for ring in _rings(area.geometry) for _, y in ring]
        squeeze = math.cos(math.radians(sum(latitudes) / len(latitudes))) if latitudes else 1.0
        # One district with its crimes as dots: a pale ground, or the dots would not show.
        dotted = bool(drawn.points) and len(drawn.areas) == 1
        for area in drawn.areas:
            fill = (
                NO_VALUE
                if area.value is None or dotted
                else colours(0.12 + 0.78 * norm(area.value))
            )
            for ring in _rings(area.geometry):
                axes.add_patch(
                    Polygon(
                        [(x * squeeze, y) for x, y in ring],
                        closed=True,
                        facecolor=fill,
                        edgecolor="white",
                        linewidth=1.2,
                    )
                )
        if drawn.points:
            axes.scatter(
                [p.longitude * squeeze for p in drawn.points],
                [p.latitude for p in drawn.points],
                s=5,
                color="#b3342b",
                alpha=0.6,
                linewidths=0,
                label=drawn.points_label,
            )
            if drawn.points_label:
                axes.legend(
                    frameon=False,
                    loc="upper center",
                    bbox_to_anchor=(0.5, 0.0),
                    markerscale=2.5,
                    fontsize=7.5,
                )
        for area in drawn.areas:
            centre = shapely.geometry.shape(area.geometry).representative_point()
            dark = area.value is not None and not dotted and norm(area.value) > 0.55
            value = "" if area.value is None else f"\n{area.value:,.0f}"
            axes.annotate(
                textwrap.fill(area.name, LABEL_WIDTH) + value,
                (centre.x * squeeze, centre.y),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else INK,
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.85}
                if dotted
                else None,
            )
        axes.set_aspect("equal")
        axes.autoscale_view()
        axes.set_axis_off()
        figure.tight_layout()
        if dotted:
            return figure
        mappable = figure.colorbar(
            ScalarMappable(norm=norm, cmap=colours),
            ax=axes,
            orientation="horizontal",
            fraction=0.04,
            pad=0.02,
            shrink=0.5,
        )
        mappable.set_label(drawn.legend, color=MUTED)
        mappable.outline.set_visible(False)
        return figure


def figure_of(block: Chart | Map | Picture) -> Figure:
    """The block drawn: a chart, a map, or the figure a picture draws itself."""
    if isinstance(block, Chart):
        return chart_figure(block)
    if isinstance(block, Map):
        return map_figure(block)
    return block.draw()


def svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prologue)."""
    with rc_context(_STYLE):
        buffer = io.StringIO()
        figure.savefig(
            buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.05
        )
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def png(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()
