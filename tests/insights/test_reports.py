"""A report of a city built in code: its figures in the HTML (parsed) and in the PDF (its
text extracted), Kazakh letters kept, and its first pages rendered to PNG for a person to
look at (test-artifacts/reports/)."""

from __future__ import annotations

import ctypes
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest

from safecity.auth.roles import Scope
from safecity.city.models import District
from safecity.insights.reports.building import build_report, render
from safecity.insights.reports.context import (
    NothingToReport,
    OutsideScope,
    ReportContext,
    report_districts,
)
from safecity.insights.reports.document import Report
from safecity.insights.reports.html import render_html
from safecity.insights.reports.pdf import render_pdf
from safecity.insights.reports.period import parse_period
from safecity.insights.statistics_service import PlaceFilter, StatisticsQuery, crime_statistics
from safecity.planning.requests.models import CameraRequest
from safecity.reports.contents import SECTIONS
from safecity.settings import Settings
from safecity.store.engine import Database
from tests.insights.reports_city import ALMATY, YESIL, ZONE, ReportCity, build_report_city

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
MINUS = "\u2212"
KAZAKH = "Есіл ауданы · Әлия Нұрғали: әғқңөұүһі"


@pytest.fixture
def city(database: Database) -> ReportCity:
    return build_report_city(database)


def make_report(
    database: Database, scope: Scope, district_id: int | None = None, period: str = "2026-Q3"
) -> Report:
    with database.session() as session:
        districts, whole_city = report_districts(session, scope, district_id)
        context = ReportContext(parse_period(period), ZONE, districts, whole_city)
        return build_report(
            session,
            context,
            city="Астана",
            author=KAZAKH,
            now=datetime(2026, 10, 5, 9, tzinfo=UTC),
            sections=SECTIONS,
        )


class Tables(HTMLParser):
    """Each table's caption and rows (cell texts), and the key figures, from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: list[str] = []
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False
        self._figure_depth = 0
        self._figure: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag == "div" and ("key-figure" in classes or self._figure_depth):
            self._figure_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption or ""] = self._rows
            self._rows = None
        elif tag == "div" and self._figure_depth:
            self._figure_depth -= 1
            if not self._figure_depth:
                self.figures.append(" ".join("".join(self._figure).split()))
                self._figure = []

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data.strip()
        elif self._cell is not None:
            self._cell.append(data)
        if self._figure_depth:
            self._figure.append(data + " ")


def parsed(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    return tables


def pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def fonts_setting(pdf: bytes, needle: str) -> set[str]:
    """The fonts the first page sets ``needle``'s letters in. The text alone is no proof: a
    font without Cyrillic still carries the letters' codes, and shows empty boxes."""
    page = pypdfium2.PdfDocument(pdf)[0]
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    start = text.index(needle)
    names = set()
    for index in range(start, start + len(needle)):
        if text[index].isspace():
            continue
        name = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        pdfium_c.FPDFText_GetFontInfo(text_page, index, name, 256, ctypes.byref(flags))
        names.add(name.value.decode())
    return names


def save_pages(pdf: bytes, name: str) -> list[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob(f"{name}-page*.png"):
        stale.unlink()
    document = pypdfium2.PdfDocument(pdf)
    saved = []
    for index, page in enumerate(document):
        path = ARTIFACTS / f"{name}-page{index + 1}.png"
        page.render(scale=150 / 72).to_pil().save(path)
        saved.append(path)
    return saved


def test_city_report_html_has_the_hand_worked_figures(database: Database, city: ReportCity) -> None:
    html = render_html(make_report(database, Scope(city_wide=True)))
    found = parsed(html)

    by_district = found.tables["Registered crimes by district"]
    assert by_district[0] == ["District", "2026-Q3", "2026-Q2", "Change", "2025-Q3", "Change"]
    assert [ALMATY, "5", "4", "+25.0%", "5", "0.0%"] in by_district
    assert [YESIL, "10", "16", f"{MINUS}37.5%", "20", f"{MINUS}50.0%"] in by_district
    assert by_district[-1] == ["Total", "15", "20", f"{MINUS}25.0%", "25", f"{MINUS}40.0%"]
    by_place = found.tables["Registered crimes by place"]
    assert ["Streets", "11", "12", f"{MINUS}8.3%", "15", f"{MINUS}26.7%"] in by_place
    assert found.figures[:3] == [
        f"Registered crimes 15 {MINUS}25.0%: 5 fewer than 20 in 2026-Q2; "
        f"{MINUS}40.0%: 10 fewer than 25 in 2025-Q3",
        f"In public places 13 {MINUS}18.8%: 3 fewer than 16 in 2026-Q2; "
        f"{MINUS}35.0%: 7 fewer than 20 in 2025-Q3",
        f"On the streets 11 {MINUS}8.3%: 1 fewer than 12 in 2026-Q2; "
        f"{MINUS}26.7%: 4 fewer than 15 in 2025-Q3",
    ]
    cameras = found.tables["Cameras by district"]
    assert cameras[-1][:6] == ["Total", "4", "3", "1", "0", "0"]
    incidents = found.tables["Incidents by district and status"]
    assert ["Outside every district", "1", "1", "0", "0", "0", "0", "0"] in incidents
    assert incidents[-1] == ["Total", "4", "2", "1", "0", "0", "0", "1"]
    assert "Incidents opened 4 +300.0%: 3 more than 1 in 2026-Q2" in found.figures
    assert "Median time to dispatch 7.0 min over 2 dispatched incidents" in found.figures
    assert "does not show that the cameras caused it" in html
    # the crimes by kind, the map, the hot spot map, the cameras by district
    assert html.count("<svg") == 4
    assert KAZAKH in html


def test_html_is_self_contained(database: Database, city: ReportCity) -> None:
    html = render_html(make_report(database, Scope(city_wide=True)))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    assert "@page { size: A4" in html


def test_city_report_pdf_says_the_same_in_kazakh_letters(
    database: Database, city: ReportCity
) -> None:
    pdf = render_pdf(make_report(database, Scope(city_wide=True)))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    assert "City safety report, Q3 2026 (July–September)" in flat
    assert f"{YESIL} 10 16 {MINUS}37.5% 20 {MINUS}50.0%" in flat
    assert f"Total 15 20 {MINUS}25.0% 25 {MINUS}40.0%" in flat
    assert f"{MINUS}25.0%: 5 fewer than 20 in 2026-Q2" in flat
    assert KAZAKH in flat, "Kazakh letters lost in the PDF"
    assert fonts_setting(pdf, KAZAKH) == {"DejaVuSans"}
    assert "Астана".upper() in flat  # the masthead sets the city in capitals
    pages = len(pypdfium2.PdfDocument(pdf))
    assert f"Page 1 of {pages}" in flat and f"Page {pages} of {pages}" in flat
    assert "Астана · Whole city · Q3 2026 (July–September)" in flat  # the running header
    saved = save_pages(pdf, "city-2026-Q3")
    assert len(saved) == pages >= 2
    last_page = pypdfium2.PdfDocument(pdf)[pages - 1].get_textpage().get_text_range()
    assert "Incidents by district and status" in last_page, "the last page is not blank"
    width, height = pypdfium2.PdfDocument(pdf)[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_district_report_covers_that_district_alone(database: Database, city: ReportCity) -> None:
    report = make_report(database, Scope(city_wide=True), city.yesil_id)
    assert report.title == "District safety report, Q3 2026 (July–September)"
    assert report.area == YESIL
    found = parsed(render_html(report))
    assert found.tables["Registered crimes by district"][1:] == [
        [YESIL, "10", "16", f"{MINUS}37.5%", "20", f"{MINUS}50.0%"],
        ["Total", "10", "16", f"{MINUS}37.5%", "20", f"{MINUS}50.0%"],
    ]
    assert "Outside every district" not in str(found.tables["Incidents by district and status"])
    pdf = render(report, "pdf")
    assert ALMATY not in pdf_text(pdf)
    save_pages(pdf, "district-yesil-2026-Q3")


def test_a_comparison_period_the_register_does_not_cover_is_left_out(
    database: Database, city: ReportCity
) -> None:
    with database.session() as session:
        districts, whole_city = report_districts(session, Scope(city_wide=True))
        context = ReportContext(parse_period("2025-Q3"), ZONE, districts, whole_city)
        report = build_report(
            session, context, city="Астана", author="analyst", now=datetime.now(UTC)
        )
    html = render_html(report)
    # 2025-Q2 has no record at all; 2024-Q3 lies before the register's first (January 2025).
    header = parsed(html).tables["Registered crimes by district"][0]
    assert header == ["District", "2025-Q3"]
    assert "The register does not cover all of 2025-Q2 or 2024-Q3" in html


def test_a_district_user_gets_only_their_districts(database: Database, city: ReportCity) -> None:
    akimat = Scope(district_ids=frozenset({city.yesil_id}))
    assert make_report(database, akimat).area == YESIL
    with pytest.raises(OutsideScope), database.session() as session:
        report_districts(session, akimat, city.almaty_id)
    with pytest.raises(NothingToReport), database.session() as session:
        report_districts(session, Scope(owner_organization_id=1), None)


def test_names_are_text_in_every_medium(database: Database, city: ReportCity) -> None:
    hostile = "<script>alert(1)</script> $x^2$ & Co"
    with database.session() as session:
        district = session.get(District, city.almaty_id)
        assert district is not None
        district.name = hostile
    report = make_report(database, Scope(city_wide=True))
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; $x^2$ &amp; Co" in html
    assert hostile in " ".join(pdf_text(render_pdf(report)).split())


def test_the_analyses_carry_the_hand_worked_figures(database: Database, city: ReportCity) -> None:
    report = make_report(database, Scope(city_wide=True))
    assert [section.title for section in report.sections] == [
        "Crime",
        "Before and after the cameras",
        "Hot spots",
        "Key performance indicators",
        "Camera fleet",
        "Incidents",
        "Camera requests",
    ]
    html = render_html(report)
    found = parsed(html)
    did = found.tables["Difference in differences"]
    assert did[1] == ["All crimes", "20", "10", "5", "5", "0.50", "0.12–2.14"]
    assert did[2][:6] == ["In public places", "15", "8", "5", "5", "0.53"]
    assert "All crimes: Rate ratio 0.50 (95% CI 0.12–2.14)" in html
    assert "2025-Q3 against 2026-Q3: cameras installed between them are the treatment" in html
    assert f"Treated: {YESIL}. Control: {ALMATY}." in html
    by_district = found.tables["Crimes before and after, by district"]
    assert [row[:5] for row in by_district[1:]] == [
        [ALMATY, "control", "0", "5", "5"],
        [YESIL, "treated", "1", "20", "10"],
    ]
    assert "What published reviews find" in html and "13–16%" in html

    kpis = found.tables["Clearance, incidents and video use by district"]
    assert [YESIL, "10", "2", "20.0", "2", "0.2", "0", "0.0"] in kpis
    assert kpis[-1][:5] == ["Total", "15", "2", "13.3", "3"]
    assert any(figure.startswith("Clearance rate 13.3") for figure in found.figures)
    assert "2 of 15 crimes solved" in " ".join(found.figures)
    # The cameras were registered after the quarter: nothing was due, so a dash, not 0%.
    assert "Recording completeness — no active camera was due to record" in " ".join(found.figures)
    assert "Clearance rate: Crimes registered in the period" in html
    assert "No people or vehicle counts were recorded in Q3 2026" in html

    hot = found.tables["The hottest cells"]
    assert hot[0][:3] == ["District", "Cell centre (lat, lon)", "Crimes"]
    # All of Есіл's 8 positioned crimes share a point, as do Алматы's 5: one cell each.
    assert [(row[0], row[2]) for row in hot[1:]] == [(YESIL, "8"), (ALMATY, "5")]
    assert "Crimes mapped 13" in found.figures
    assert "Near repeats (Knox test):" in html
    assert "2 records have only a district, no position" in html

    requests = found.tables["Camera requests by district and status"]
    assert requests[0][1:] == [
        "Requests", "Submitted", "Under review", "Approved", "Rejected", "Installed",
        "Submitted in period", "Installed in period",
    ]  # fmt: skip
    assert [YESIL, "2", "1", "0", "0", "0", "1", "1", "1"] in requests
    assert [ALMATY, "1", "0", "0", "0", "1", "0", "1", "0"] in requests
    assert requests[-1] == ["Total", "3", "1", "0", "0", "1", "1", "2", "1"]
    assert "Submitted in the period 2" in found.figures

    flat = " ".join(pdf_text(render_pdf(report)).split())
    assert "All crimes 20 10 5 5 0.50 0.12–2.14" in flat
    assert f"{YESIL} 10 2 20.0 2 0.2 0 0.0" in flat
    assert "Total 3 1 0 0 1 1 2 1" in flat
    assert "Hot spots" in flat and "The hottest cells" in flat


def test_a_district_report_shows_nothing_of_another_district(
    database: Database, city: ReportCity
) -> None:
    akimat = Scope(district_ids=frozenset({city.yesil_id}))
    report = make_report(database, akimat)
    html = render_html(report)
    assert ALMATY not in html
    found = parsed(html)
    assert found.tables["Camera requests by district and status"][1:] == [
        [YESIL, "2", "1", "0", "0", "0", "1", "1", "1"],
        ["Total", "2", "1", "0", "0", "0", "1", "1", "1"],
    ]
    assert found.tables["Clearance, incidents and video use by district"][-1][:3] == [
        "Total", "10", "2",
    ]  # fmt: skip
    # Alone, Есіл has no control district: the report says so instead of a ratio.
    assert "No difference-in-differences: no control districts" in html
    assert html.count("No difference-in-differences") == 1  # once, not once per row
    assert "Crimes mapped 8" in found.figures
    pdf = render_pdf(report)
    assert ALMATY not in pdf_text(pdf)
    save_pages(pdf, "district-akimat-2026-Q3")


def test_sections_without_data_say_so(database: Database, city: ReportCity) -> None:
    with database.session() as session:
        for request in session.query(CameraRequest):
            session.delete(request)
    html = render_html(make_report(database, Scope(city_wide=True), period="2026-11"))
    assert "No crime with a position was registered in November 2026" in html
    assert "No rate ratio" in html or "No difference-in-differences" in html
    assert "No request for a new camera has been made in these districts." in html
    assert "No people or vehicle counts were recorded in November 2026" in html
    figures = " ".join(parsed(html).figures)
    assert "Clearance rate — no crime registered in the period" in figures
    assert "Video used — no incident opened in the period" in figures
    early = render_html(make_report(database, Scope(city_wide=True), period="2025-01"))
    assert "The crime register does not cover all of 2024-11" in early


def test_the_crime_headlines_agree_with_the_statistics_service(
    database: Database, city: ReportCity
) -> None:
    """The crime section counts in one pass; the statistics API counts the same records its
    own way. A report and the Statistics screen must never disagree."""
    figures = parsed(render_html(make_report(database, Scope(city_wide=True)))).figures
    with database.session() as session:
        for places, label in (([], "Registered crimes"), ([PlaceFilter.PUBLIC], "In public places"),
                              ([PlaceFilter.STREET], "On the streets")):  # fmt: skip
            start, end = parse_period("2026-Q3").bounds(ZONE)
            stats = crime_statistics(
                session,
                Scope(city_wide=True),
                Settings.model_construct(timezone="Asia/Almaty"),
                StatisticsQuery(places=places, since=start, until=end),
            )
            (quarter,) = stats.periods
            assert quarter.previous is not None and quarter.year_ago is not None
            shown = next(f for f in figures if f.startswith(label))
            assert shown.startswith(f"{label} {quarter.count} ")
            assert f"than {quarter.previous.before} in 2026-Q2" in shown
            assert f"than {quarter.year_ago.before} in 2025-Q3" in shown
