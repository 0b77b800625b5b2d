"""`safecity report`: a file for a period, its progress section by section, and clear errors
for a bad period or an unknown district."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safecity.audit.models import AuditEntry
from safecity.cli import app
from safecity.store.engine import Database
from tests.insights.reports_city import YESIL, build_report_city

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def config(tmp_path: Path, database: Database) -> Path:
    build_report_city(database)
    path = tmp_path / "safecity.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\ntimezone: Asia/Almaty\ncity_name: Астана\n"
        f"database:\n  url: '{database.url}'\n"
    )
    return path


def report(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["report", *args, "--config", str(config)])
    return result.exit_code, result.output


def test_report_writes_a_pdf_and_tells_each_section_as_it_goes(
    config: Path, tmp_path: Path, database: Database
) -> None:
    out = tmp_path / "city.pdf"
    code, output = report(config, "--period", "2026-Q3", "--out", str(out))
    assert code == 0, output
    assert output.splitlines()[:8] == [
        "[1/8] Crime",
        "[2/8] Before and after",
        "[3/8] Hot spots",
        "[4/8] KPIs",
        "[5/8] Camera fleet",
        "[6/8] Incidents",
        "[7/8] Camera requests",
        "[8/8] drawing PDF",
    ]
    assert f"{out}: City safety report, Q3 2026 (July–September), Whole city" in output
    document = pypdfium2.PdfDocument(out.read_bytes())
    assert "Total 15 20" in " ".join(document[0].get_textpage().get_text_range().split())
    with database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "insights.report")
        ).one()
    assert entry.target == "city.pdf"
    assert entry.details == {"period": "2026-Q3", "district_id": None, "format": "pdf"}


def test_report_of_a_district_by_code_as_html(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "yesil.html"
    code, output = report(
        config, "--period", "2026-09", "--district", "YESIL", "--format", "html", "--out", str(out)
    )
    assert code == 0, output
    html = out.read_text()
    assert "District safety report, September 2026" in html
    assert f'<dd class="area">{YESIL}</dd>' in html


def test_report_names_its_file_when_no_out_is_given(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = report(config, "--period", "2026", "--district", YESIL, "--format", "html")
    assert code == 0, output
    assert (tmp_path / "safecity-report-yesil-2026.html").is_file()


def test_a_bad_period_is_refused_saying_how_to_write_one(config: Path, tmp_path: Path) -> None:
    code, output = report(config, "--period", "2026-Q5", "--out", str(tmp_path / "x.pdf"))
    assert code == 2
    assert "'2026-Q5' is not a period: write a year (2026), a quarter (2026-Q3)" in output
    assert not (tmp_path / "x.pdf").exists()


def test_an_unknown_district_is_refused_by_name(config: Path, tmp_path: Path) -> None:
    code, output = report(
        config, "--period", "2026-Q3", "--district", "Nowhere", "--out", str(tmp_path / "x.pdf")
    )
    assert code == 1
    assert "unknown district 'Nowhere'" in output
    assert not (tmp_path / "x.pdf").exists()
