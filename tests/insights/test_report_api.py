"""GET /api/insights/report: the file and its name, cut to the caller's districts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2
import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.insights.reports_city import ALMATY, YESIL, ReportCity, build_report_city

URL = "/api/insights/report"


@pytest.fixture
def city(database: Database) -> ReportCity:
    return build_report_city(database)


@pytest.fixture
def signed_in(
    database: Database, city: ReportCity, tmp_path: Path
) -> Iterator[Callable[[str], TestClient]]:
    settings = Settings(data_dir=tmp_path, timezone="Asia/Almaty", city_name="Астана")
    with TestClient(create_app(settings, database)) as client:

        def sign_in(username: str) -> TestClient:
            response = client.post(
                "/api/auth/login", json={"username": username, "password": f.PASSWORD}
            )
            assert response.status_code == 200, response.text
            return client

        yield sign_in


def test_analyst_downloads_the_city_pdf_with_its_name(
    signed_in: Callable[[str], TestClient],
) -> None:
    response = signed_in("analyst").get(URL, params={"period": "2026-Q3"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="safecity-report-city-2026-Q3.pdf"'
    )
    text = " ".join(
        page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(response.content)
    )
    assert "Analyst (analyst)" in text
    assert YESIL in text and ALMATY in text


def test_akimat_gets_its_own_district_and_nothing_else(
    signed_in: Callable[[str], TestClient], city: ReportCity
) -> None:
    client = signed_in("akimat-yesil")
    response = client.get(URL, params={"period": "2026-Q3", "format": "html"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert YESIL in response.text and ALMATY not in response.text
    # Every section is there, and none reaches into Алматы (its requests, crimes, KPIs).
    for title in ("Before and after the cameras", "Hot spots", "Key performance indicators"):
        assert title in response.text
    assert "Camera requests by district and status" in response.text
    named = client.get(
        URL, params={"period": "2026-Q3", "format": "html", "district_id": city.yesil_id}
    )
    assert named.status_code == 200
    assert 'filename="safecity-report-yesil-2026-Q3.html"' in named.headers["content-disposition"]
    other = client.get(URL, params={"period": "2026-Q3", "district_id": city.almaty_id})
    missing = client.get(URL, params={"period": "2026-Q3", "district_id": 999_999})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


def test_a_utility_company_gets_no_report(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("water").get(URL, params={"period": "2026-Q3"})
    assert response.status_code == 403
    assert response.json()["detail"] == "your role sees no district's figures"


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "last year"])
def test_a_bad_period_is_a_422_that_says_how_to_write_one(
    signed_in: Callable[[str], TestClient], period: str
) -> None:
    response = signed_in("analyst").get(URL, params={"period": period})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "period"]
    assert "write a year (2026), a quarter (2026-Q3) or a month (2026-10)" in problem["msg"]


def test_signing_in_comes_first(database: Database, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as client:
        assert client.get(URL, params={"period": "2026"}).status_code == 401
