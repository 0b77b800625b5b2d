from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event, update
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safecity.api.app import create_app
from safecity.auth.models import LoginSession, User
from safecity.core.clock import utcnow
from safecity.settings import ApiSettings, LoginThrottleSettings, Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City
from tests.audit.entries import audit_entries


def test_api_refuses_anonymous_requests(client: TestClient, city: City) -> None:
    assert client.get("/api/cameras").status_code == 401
    assert client.get(f"/api/cameras/{city.street_west_id}").status_code == 401
    assert client.get("/api/auth/me").status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient) -> None:
    wrong = client.post("/api/auth/login", json={"username": "admin", "password": "nope-nope"})
    unknown = client.post("/api/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "safecity_session" not in client.cookies


def test_login_sets_httponly_cookie_and_me_describes_the_user(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "akimat-west", "password": f.PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    me = client.get("/api/auth/me").json()
    assert me["role"] == "akimat" and me["role_label"] == "Akimat"
    assert me["organization"] == "Akimat West"
    assert me["city_wide"] is False and len(me["district_ids"]) == 1


def test_bearer_token_works_without_cookie(client: TestClient) -> None:
    token = client.post(
        "/api/auth/login", json={"username": "admin", "password": f.PASSWORD, "issue_token": True}
    ).json()["token"]
    client.cookies.clear()
    assert client.get("/api/cameras").status_code == 401
    response = client.get("/api/cameras", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert client.get("/api/cameras", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_logout_ends_the_session(client: TestClient) -> None:
    token = client.post(
        "/api/auth/login", json={"username": "admin", "password": f.PASSWORD, "issue_token": True}
    ).json()["token"]
    assert client.post("/api/auth/logout").status_code == 204
    assert (
        client.get("/api/cameras", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_repeated_failures_lock_the_user_at_that_address_even_for_the_right_password(
    client: TestClient,
) -> None:
    for _ in range(5):
        client.post("/api/auth/login", json={"username": "operator", "password": "guess-guess"})
    locked = client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    other = client.post("/api/auth/login", json={"username": "admin", "password": f.PASSWORD})
    assert other.status_code == 200, "one locked name does not lock the others"


def _from(app: ASGIApp, address: str) -> TestClient:
    """A client whose requests come from ``address`` (the app's own is "testclient")."""
    return TestClient(app, client=(address, 50000))


def test_guessing_from_elsewhere_does_not_lock_the_user_out(client: TestClient) -> None:
    guesser = _from(client.app, "198.51.100.7")
    for _ in range(6):
        guesser.post("/api/auth/login", json={"username": "admin", "password": "guess-guess"})
    right = {"username": "admin", "password": f.PASSWORD}
    assert guesser.post("/api/auth/login", json=right).status_code == 429
    assert client.post("/api/auth/login", json=right).status_code == 200


def test_a_guess_spread_over_addresses_locks_the_user_but_not_at_their_console(
    database: Database, city: City, tmp_path: Path
) -> None:
    limits = LoginThrottleSettings(user_failures=4)
    app = create_app(Settings(data_dir=tmp_path, api=ApiSettings(login=limits)), database)
    right = {"username": "admin", "password": f.PASSWORD}
    console = _from(app, "10.0.0.5")
    assert console.post("/api/auth/login", json=right).status_code == 200
    for index in range(4):
        guesser = _from(app, f"198.51.100.{index}")
        for name in ("admin", "ghost"):
            wrong = {"username": name, "password": "guess-guess"}
            assert guesser.post("/api/auth/login", json=wrong).status_code == 401

    elsewhere = _from(app, "203.0.113.9")
    admin = elsewhere.post("/api/auth/login", json=right)
    ghost = elsewhere.post("/api/auth/login", json={"username": "ghost", "password": f.PASSWORD})
    assert admin.status_code == ghost.status_code == 429
    assert admin.json() == ghost.json(), "the answer does not say which name exists"
    assert int(admin.headers["retry-after"]) > 0
    assert console.post("/api/auth/login", json=right).status_code == 200


def test_health_and_security_headers(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_login_is_committed_before_the_response_starts(
    database: Database, city: City, tmp_path: Path
) -> None:
    """The token a client receives must already be stored, or its next request gets a 401."""
    order: list[str] = []
    app = create_app(Settings(data_dir=tmp_path), database)

    async def recording_app(scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)

        await app(scope, receive, recording_send)

    def on_commit(_connection: object) -> None:
        order.append("commit")

    event.listen(database.engine, "commit", on_commit)
    try:
        with TestClient(recording_app) as client:
            response = client.post(
                "/api/auth/login", json={"username": "admin", "password": f.PASSWORD}
            )
        assert response.status_code == 200
    finally:
        event.remove(database.engine, "commit", on_commit)
    assert "commit" in order
    assert order.index("commit") < order.index("response")


def test_console_learns_the_city_name_and_time_zone_before_sign_in(client: TestClient) -> None:
    body = client.get("/api/console").json()
    assert body["city_name"] == "Safe City"
    assert body["timezone"] == "UTC"
    # For the About box: the installed package's version and the licence pyproject.toml declares.
    assert body["version"] == version("safecity")
    assert body["license"] == "Apache-2.0"


def test_console_files_are_revalidated_after_upgrades(client: TestClient) -> None:
    response = client.get("/static/js/main.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "etag" in response.headers


def test_console_files_cannot_be_escaped_with_dot_dot(client: TestClient) -> None:
    for path in (
        "/static/../api/app.py",
        "/static/%2e%2e/api/app.py",
        "/static/..%2Fapi%2Fapp.py",
        "/static/js/../../../settings.py",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "create_app" not in response.text and "BaseSettings" not in response.text


def test_browser_login_answer_carries_no_token(client: TestClient) -> None:
    body = client.post("/api/auth/login", json={"username": "admin", "password": f.PASSWORD}).json()
    assert body["token"] is None
    assert body["user"]["username"] == "admin"
    assert client.get("/api/auth/me").status_code == 200, "the cookie alone signs the browser in"


def test_deactivated_user_is_signed_out_at_once(client: TestClient, database: Database) -> None:
    client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
    assert client.get("/api/auth/me").status_code == 200
    with database.session() as session:
        session.execute(update(User).where(User.username == "operator").values(is_active=False))
    assert client.get("/api/auth/me").status_code == 401
    again = client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
    assert again.status_code == 401


def test_expired_session_is_refused(client: TestClient, database: Database) -> None:
    client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
    with database.session() as session:
        session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/auth/me").status_code == 401


def test_one_address_cannot_spray_many_usernames(client: TestClient) -> None:
    for index in range(30):
        client.post("/api/auth/login", json={"username": f"guess{index}", "password": "x-x-x-x-x"})
    blocked = client.post("/api/auth/login", json={"username": "admin", "password": f.PASSWORD})
    assert blocked.status_code == 429


def test_sign_in_failure_and_sign_out_are_audited(client: TestClient, database: Database) -> None:
    client.post("/api/auth/login", json={"username": "Ghost", "password": "nope-nope"})
    client.post("/api/auth/login", json={"username": "admin", "password": f.PASSWORD})
    client.post("/api/auth/logout")
    client.post("/api/auth/logout")  # no session any more: nothing to log
    rows = [(e.action, e.actor, e.actor_id is not None, e.address) for e in audit_entries(database)]
    assert rows == [
        ("auth.login_failed", "ghost", False, "testclient"),
        ("auth.login", "admin", True, "testclient"),
        ("auth.logout", "admin", True, "testclient"),
    ]
