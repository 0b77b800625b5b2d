"""The report as data: sections of blocks that both the HTML and the PDF draw. Pure.

A section builder returns these; it never formats for one medium. Numbers stay numbers (the
renderers format them), so a test reads the figures the reader will see from either file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from safecity.insights.reports.period import Period

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Cell = str | int | float | None
"""A table cell: text, a count, a figure (one decimal), or nothing ("—")."""


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False
    """A caveat in plain words (drawn set apart): what the figures above cannot show."""


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: int | float | None
    """None: nothing to count (a share of nothing), drawn as a dash rather than a made-up 0."""
    change: str | None = None
    """How it moved, in words with its own numbers: "-12.5%: 15 fewer than 120 in 2026-Q2" (with a true minus sign)."""
    unit: str = ""


@dataclass(frozen=True)
class KeyFigures:
    figures: Sequence[KeyFigure]


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False
    """Right-aligned and formatted as a number."""


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    total: Sequence[Cell] | None = None
    """A last row set apart (the totals)."""


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Chart:
    """Bars grouped by category (one bar per series) or lines over the categories."""

    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    kind: str = "bar"
    """"bar", "barh" (long category names) or "line"."""
    y_label: str = ""


@dataclass(frozen=True)
class Area:
    """A district drawn on a map, with its value (None: no value, drawn grey)."""

    name: str
    geometry: dict[str, Any]
    """GeoJSON Polygon or MultiPolygon, longitude first."""
    value: float | None


@dataclass(frozen=True)
class MapPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Map:
    """District outlines coloured by value (a choropleth), optionally with points on top."""

    title: str
    areas: Sequence[Area]
    legend: str
    """What the colours count, e.g. "crimes, 2026-Q3"."""
    points: Sequence[MapPoint] = ()
    points_label: str = ""


@dataclass(frozen=True)
class Picture:
    """A figure another capability draws itself (a hotspot map): ``draw`` makes a fresh
    matplotlib Figure (no pyplot) each time a renderer asks, so the document stays data."""

    title: str
    draw: Callable[[], Figure]


Block = Heading | Paragraph | KeyFigures | Table | Chart | Map | Picture


@dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Report:
    title: str
    city: str
    area: str
    """The district the report covers, or the words for the whole city."""
    period: Period
    generated_at: datetime
    """Aware, in the city's time zone."""
    author: str
    sections: Sequence[Section] = field(default_factory=tuple)
