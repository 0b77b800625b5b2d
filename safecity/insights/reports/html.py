"""The report as one self-contained HTML page: styles inline, charts and maps as inline SVG,
nothing fetched from elsewhere; it prints on A4."""

from __future__ import annotations

from datetime import timedelta

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from safecity import __version__
from safecity.insights.reports.document import Cell, Chart, Map, Picture, Report
from safecity.insights.reports.drawing import figure_of, svg

_environment = Environment(
    loader=PackageLoader("safecity.insights.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def format_cell(value: Cell) -> str:
    """A count with thousands separated, a figure to one decimal, "—" for nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return value


_environment.filters["number"] = format_cell


def _drawing(block: Chart | Map | Picture) -> Markup:
    figure = figure_of(block)
    # Our own figure's SVG, outlines and shapes only: nothing from a user lands in it unescaped
    # (matplotlib escapes the titles it writes as text).
    return Markup(svg(figure))


def render_html(report: Report) -> str:
    template = _environment.get_template("report.html.j2")
    return template.render(
        report=report,
        drawing=_drawing,
        last_day=(report.period.end - timedelta(days=1)).isoformat(),
        generated=report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=__version__,
    )
