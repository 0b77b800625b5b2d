"""Who may read the API documentation (/docs, /openapi.json) and the metrics (/metrics): each a
setting (``api.docs``, ``api.metrics_token``, ``api.metrics_public``), signed-in by default.

The page itself is checked here for what the Content-Security-Policy needs (no inline script or
style, nothing from another host); tests/web/test_api_docs_browser.py renders it in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.api.headers import CONTENT_SECURITY_POLICY
from safecity.settings import ApiSettings, Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City

MakeClient = Callable[..., TestClient]
SIGN_IN_FIRST = {"detail": "sign in first"}
METRICS_TOKEN = "scrape-7f3c1d9a2b6e4f80"


@pytest.fixture
def make_client(database: Database, city: City, tmp_path: Path) -> Iterator[MakeClient]:
    """A client of an app whose ``api`` settings are the keyword arguments."""
    with ExitStack() as stack:

        def make(**api: Any) -> TestClient:
            settings = Settings(data_dir=tmp_path, api=ApiSettings(**api))
            return stack.enter_context(TestClient(create_app(settings, database)))

        yield make


def sign_in(client: TestClient, username: str) -> TestClient:
    response = client.post("/api/auth/login", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 200, response.text
    return client


def assert_signs_in_first(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401, path
    assert response.json() == SIGN_IN_FIRST
    assert response.headers["www-authenticate"] == "Bearer"


# --- /docs and /openapi.json ---------------------------------------------------------------------


def test_docs_need_sign_in_by_default_and_any_role_may_read_them(
    make_client: MakeClient,
) -> None:
    client = make_client()
    assert_signs_in_first(client, "/docs")
    assert_signs_in_first(client, "/openapi.json")

    sign_in(client, "water")  # the narrowest role: the schema says what exists, not who may
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/api/cameras" in schema.json()["paths"]
    assert ApiSettings().docs == "signed_in", "the default the test ran on"


def test_docs_page_keeps_the_content_security_policy(make_client: MakeClient) -> None:
    """Every script and style is a file from this server: the CSP allows no inline code (as
    FastAPI's own page has) and no other host (its page loads Swagger UI from a CDN)."""
    client = make_client(docs="public")
    html = client.get("/docs").text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) >= 2, "Swagger UI and the script that starts it"
    for attributes, body in scripts:
        assert 'src="/' in attributes and not body.strip(), f"inline script: {attributes}{body}"
    assert "<style" not in html and " style=" not in html
    assert "//" not in html, "no URL of another host (nor a protocol-relative one)"
    referenced = re.findall(r'(?:src|href)="(/[^"]*)"', html)
    assert any(path.endswith(".js") for path in referenced)
    assert any(path.endswith(".css") for path in referenced)
    for path in referenced:
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.content, path
        assert asset.headers["cache-control"] == "no-cache", f"{path}: revalidated after upgrades"


def test_public_docs_need_no_sign_in(make_client: MakeClient) -> None:
    client = make_client(docs="public")
    assert client.get("/docs").status_code == 200
    assert "/api/health" in client.get("/openapi.json").json()["paths"]


def test_docs_turned_off_are_not_found_even_for_an_administrator(
    make_client: MakeClient,
) -> None:
    client = sign_in(make_client(docs="off"), "admin")
    assert client.get("/api/auth/me").status_code == 200, "signed in"
    for path in ("/docs", "/openapi.json", "/docs/swagger-ui/swagger-ui-bundle.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_redoc_and_the_oauth_redirect_page_are_never_served(make_client: MakeClient) -> None:
    """FastAPI's own extra pages load from a CDN (ReDoc) or serve an inline script."""
    client = make_client(docs="public")
    assert client.get("/docs").status_code == 200
    for path in ("/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path


# --- /metrics ---------------------------------------------------------------------------------------


def test_metrics_answer_only_an_administrator_by_default(make_client: MakeClient) -> None:
    client = make_client()
    assert_signs_in_first(client, "/metrics")

    sign_in(client, "operator")
    refused = client.get("/metrics")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "your role may not do this"}

    sign_in(client, "admin")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert "safecity_http_request_seconds" in answer.text
    defaults = ApiSettings()
    assert defaults.metrics_token is None and not defaults.metrics_public, "what the test ran on"


def test_prometheus_reads_metrics_with_the_bearer_token(make_client: MakeClient) -> None:
    client = make_client(metrics_token=METRICS_TOKEN)
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert "safecity_http_request_seconds" in answer.text

    for wrong in (METRICS_TOKEN[:-1], METRICS_TOKEN + "0", METRICS_TOKEN.upper(), "", "é" * 23):
        bearer = f"Bearer {wrong}".encode("latin-1")
        response = client.get("/metrics", headers={"Authorization": bearer})
        assert response.status_code == 401, wrong
        assert response.json() == SIGN_IN_FIRST
    assert_signs_in_first(client, "/metrics")
    assert sign_in(client, "admin").get("/metrics").status_code == 200, "an admin still may"


def test_public_metrics_need_nothing(make_client: MakeClient) -> None:
    client = make_client(metrics_public=True)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert "safecity_http_request_seconds" in answer.text
