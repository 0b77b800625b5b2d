"""Every answer carries the security headers, and every request is timed by route."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from safecity.api.headers import CONTENT_SECURITY_POLICY


def _seconds_count(client: TestClient, route: str, status: int) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("safecity_http_request_seconds_count{") and (
            f'route="{route}"' in line and f'status="{status}"' in line and 'method="GET"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_api_answers_carry_the_security_headers(client: TestClient) -> None:
    for path, status in (("/api/health", 200), ("/api/cameras", 401), ("/api/nowhere", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_console_files_are_revalidated_and_keep_their_own_headers(client: TestClient) -> None:
    script = client.get("/static/js/api.js")
    assert script.status_code == 200
    assert script.headers["cache-control"] == "no-cache"
    assert script.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = client.get("/")
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-type"].startswith("text/html")


def test_requests_are_timed_by_route_and_status(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("admin")  # who may read /metrics by default
    before = _seconds_count(client, "/api/health", 200)
    unmatched = _seconds_count(client, "unmatched", 404)
    client.get("/api/health")
    client.get("/api/health")
    client.get("/api/nowhere")
    assert _seconds_count(client, "/api/health", 200) == before + 2
    assert _seconds_count(client, "unmatched", 404) == unmatched + 1
