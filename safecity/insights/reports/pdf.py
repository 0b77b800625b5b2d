"""The report as an A4 PDF (reportlab's Platypus): a running header with the city and the
period, page numbers "Page n of N", tables that wrap rather than overflow, charts and maps as
200 dpi pictures. Text is set in DejaVu Sans, matplotlib's bundled font, registered with
reportlab: its built-in fonts have no Cyrillic, nor the nine letters Kazakh adds to it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch, mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as Text
from reportlab.platypus import Table as Grid

from safecity import __version__
from safecity.insights.reports.document import (
    Block,
    Chart,
    Heading,
    KeyFigures,
    Map,
    Paragraph,
    Picture,
    Report,
    Table,
)
from safecity.insights.reports.drawing import PNG_DPI, figure_of, png
from safecity.insights.reports.html import format_cell

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
MARGIN = 18 * mm
TOP = 24 * mm
BOTTOM = 20 * mm
FRAME_PADDING = 6
"""Platypus keeps flowables this far inside the page's margins."""
LEFT = MARGIN + FRAME_PADDING
WIDTH = A4[0] - 2 * LEFT
INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5d6a78")
RULE = colors.HexColor("#d9dee4")
BAND = colors.HexColor("#1f4e79")
SOFT = colors.HexColor("#f3f5f8")
ACCENT = colors.HexColor("#c2703d")
CELL_SIZE = 8.5


@cache
def _register_fonts() -> None:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _style(name: str, **values: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": FONT, "fontSize": 9.5, "leading": 13, "textColor": INK}
    return ParagraphStyle(name, **(base | values))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    return {
        "city": _style("city", fontSize=8.5, textColor=MUTED, leading=11),
        "title": _style(
            "title", fontName=BOLD, fontSize=19, leading=23, spaceBefore=2, spaceAfter=6
        ),
        "meta": _style("meta", fontSize=9, leading=12),
        "meta_label": _style("meta_label", fontSize=9, leading=12, textColor=MUTED),
        "h2": _style("h2", fontName=BOLD, fontSize=14, leading=18, spaceBefore=10, spaceAfter=4),
        "h3": _style("h3", fontName=BOLD, fontSize=11, leading=14, spaceBefore=6, spaceAfter=3),
        "body": _style("body", spaceAfter=6),
        "note": _style("note", fontSize=9, leading=12.5),
        "caption": _style("caption", fontName=BOLD, fontSize=9.5, spaceBefore=2, spaceAfter=3),
        "figure_label": _style("figure_label", fontSize=7.5, leading=9.5, textColor=MUTED),
        "figure_value": _style("figure_value", fontName=BOLD, fontSize=17, leading=21),
        "figure_change": _style("figure_change", fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": _style("cell", fontSize=8.5, leading=10.5),
        "cell_num": _style("cell_num", fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "head": _style("head", fontName=BOLD, fontSize=8.5, leading=10.5, textColor=colors.white),
        "head_num": _style(
            "head_num",
            fontName=BOLD,
            fontSize=8.5,
            leading=10.5,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
        "total": _style("total", fontName=BOLD, fontSize=8.5, leading=10.5),
        "total_num": _style(
            "total_num", fontName=BOLD, fontSize=8.5, leading=10.5, alignment=TA_RIGHT
        ),
    }


def _text(text: str, style: str) -> Text:
    return Text(escape(text), _styles()[style])


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds each page until the end, so that every footer can say how many pages there are."""

    running_header = ""
    running_footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        width, height = A4
        self.setStrokeColor(BAND)
        self.setLineWidth(2)
        self.line(LEFT, height - 13 * mm, width - LEFT, height - 13 * mm)
        self.setFont(FONT, 8)
        self.setFillColor(MUTED)
        self.drawString(LEFT, height - 11 * mm, self.running_header)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(LEFT, 13 * mm, width - LEFT, 13 * mm)
        self.drawString(LEFT, 9 * mm, self.running_footer)
        self.drawRightString(width - LEFT, 9 * mm, f"Page {self._pageNumber} of {total}")


def _masthead(report: Report) -> list[Flowable]:
    last_day = (report.period.end - timedelta(days=1)).isoformat()
    rows = [
        ("Area", report.area),
        ("Period", f"{report.period.label}: {report.period.start.isoformat()} to {last_day}"),
        ("Generated", report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("Prepared by", report.author),
    ]
    meta = Grid(
        [[_text(label, "meta_label"), _text(value, "meta")] for label, value in rows],
        colWidths=[28 * mm, WIDTH - 28 * mm],
        hAlign="LEFT",
    )
    meta.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [
        _text(report.city.upper(), "city"),
        _text(report.title, "title"),
        meta,
        Spacer(1, 4 * mm),
    ]


def _key_figures(block: KeyFigures) -> Flowable:
    cells = []
    for figure in block.figures:
        value = format_cell(figure.value) + (
            f" {figure.unit}" if figure.unit and figure.value is not None else ""
        )
        cell: list[Flowable] = [
            _text(figure.label.upper(), "figure_label"),
            _text(value, "figure_value"),
        ]
        if figure.change:
            cell.append(_text(figure.change, "figure_change"))
        cells.append(cell)
    gap = 3 * mm
    count = max(1, len(cells))
    width = (WIDTH - gap * (count - 1)) / count
    columns: list[Any] = []
    widths: list[float] = []
    for index, cell in enumerate(cells):
        if index:
            columns.append("")
            widths.append(gap)
        columns.append(cell)
        widths.append(width)
    grid = Grid([columns], colWidths=widths, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP")]
    for index in range(0, len(columns), 2):
        commands += [
            ("BOX", (index, 0), (index, 0), 0.6, RULE),
            ("LINEABOVE", (index, 0), (index, 0), 2.5, BAND),
            ("TOPPADDING", (index, 0), (index, 0), 5),
            ("BOTTOMPADDING", (index, 0), (index, 0), 6),
            ("LEFTPADDING", (index, 0), (index, 0), 6),
        ]
    grid.setStyle(TableStyle(commands))
    return grid


def _column_widths(block: Table) -> list[float]:
    """Each number column as wide as its longest figure or its heading's longest word (a word
    never breaks), the text columns sharing what is left; squeezed evenly when too wide."""
    padding = 8 + 2

    def wanted(index: int) -> float:
        column = block.columns[index]
        rows = [*block.rows, block.total] if block.total is not None else block.rows
        cells = [format_cell(row[index]) for row in rows]
        words = column.title.split() or [""]
        return padding + float(
            max(
                *(pdfmetrics.stringWidth(word, BOLD, CELL_SIZE) for word in words),
                *(pdfmetrics.stringWidth(cell, BOLD, CELL_SIZE) for cell in cells),
                17 * mm - padding,
            )
        )

    numbers = {i: wanted(i) for i, column in enumerate(block.columns) if column.numeric}
    texts = len(block.columns) - len(numbers)
    room = WIDTH - sum(numbers.values())
    least_text = 30 * mm * texts
    if room < least_text:
        scale = (WIDTH - least_text) / sum(numbers.values())
        numbers = {i: width * scale for i, width in numbers.items()}
        room = least_text
    text_width = room / texts if texts else 0.0
    if not texts:
        spare = room / max(1, len(numbers))
        numbers = {i: width + spare for i, width in numbers.items()}
    return [numbers.get(i, text_width) for i in range(len(block.columns))]


def _table(block: Table) -> list[Flowable]:
    def row(cells: Sequence[Any], plain: str, number: str) -> list[Text]:
        return [
            _text(format_cell(cell), number if column.numeric else plain)
            for cell, column in zip(cells, block.columns, strict=True)
        ]

    data = [row([column.title for column in block.columns], "head", "head_num")]
    data += [row(cells, "cell", "cell_num") for cells in block.rows]
    if block.total is not None:
        data.append(row(block.total, "total", "total_num"))
    grid = Grid(data, colWidths=_column_widths(block), repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), BAND),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for index in range(2, len(block.rows) + 1, 2):
        commands.append(("BACKGROUND", (0, index), (-1, index), SOFT))
    if block.total is not None:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 1, INK))
    grid.setStyle(TableStyle(commands))
    caption = [_text(block.caption, "caption")] if block.caption else []
    # A caption never ends a page alone; a long table then breaks between its rows.
    return (
        [KeepTogether([*caption, grid]), Spacer(1, 5 * mm)]
        if len(block.rows) < 25
        else [*caption, grid, Spacer(1, 5 * mm)]
    )


def _picture(block: Chart | Map | Picture) -> Flowable:
    figure = figure_of(block)
    drawn = io.BytesIO(png(figure))
    # Cropped to what was drawn, so the picture's own size gives its shape.
    pixels_wide, pixels_high = ImageReader(drawn).getSize()
    drawn.seek(0)
    width = min(WIDTH, pixels_wide / PNG_DPI * inch)
    picture = Image(drawn, width=width, height=width * pixels_high / pixels_wide)
    return KeepTogether([picture, Spacer(1, 4 * mm)])


def _note(block: Paragraph) -> Flowable:
    grid = Grid([[_text(block.text, "note")]], colWidths=[WIDTH])
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SOFT),
                ("LINEBEFORE", (0, 0), (0, -1), 3, ACCENT),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return KeepTogether([grid, Spacer(1, 5 * mm)])


def _flowables(block: Block) -> list[Flowable]:
    if isinstance(block, Heading):
        return [_text(block.text, "h3")]
    if isinstance(block, Paragraph):
        return [_note(block)] if block.note else [_text(block.text, "body")]
    if isinstance(block, KeyFigures):
        return [_key_figures(block), Spacer(1, 4 * mm)]
    if isinstance(block, Table):
        return _table(block)
    return [_picture(block)]


def render_pdf(report: Report) -> bytes:
    _register_fonts()
    story: list[Flowable] = _masthead(report)
    for section in report.sections:
        heading = _text(section.title, "h2")
        rule = Grid([[""]], colWidths=[WIDTH], rowHeights=[1])
        rule.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, -1), 1.5, BAND)]))
        flowables = [_flowables(block) for block in section.blocks]
        first = flowables[0][:1] if flowables else []
        # A section's title never ends a page: it goes with the start of what it heads.
        story.append(KeepTogether([heading, rule, Spacer(1, 3 * mm), *first]))
        story += flowables[0][1:] if flowables else []
        for more in flowables[1:]:
            story += more
    # A space after the last table would start a page of its own when the table ends one.
    while story and isinstance(story[-1], Spacer):
        story.pop()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=report.title,
        author=report.author,
        subject=f"{report.city}, {report.area}, {report.period.label}",
        creator=f"SafeCity {__version__}",
    )
    canvas_class = type(
        "_ReportCanvas",
        (_NumberedCanvas,),
        {
            "running_header": f"{report.city} · {report.area} · {report.period.label}",
            "running_footer": f"{report.title} · generated "
            + report.generated_at.strftime("%Y-%m-%d %H:%M"),
        },
    )
    document.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()
