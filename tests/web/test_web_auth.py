"""Login, sessions, CSRF, rate limiting and API tokens against the real app and store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tansuan.store.schema import api_token, web_user
from tests.web.conftest import Deployment, csrf_of, login
from tests.web.demo import PASSWORD


def test_passwords_are_argon2_hashes(deployment: Deployment) -> None:
    with deployment.store.read() as conn:
        hashes = list(conn.execute(select(web_user.c.password_hash)).scalars())
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_login_sets_a_session_and_logout_ends_them_all(deployment: Deployment) -> None:
    client = deployment.client()
    assert client.get("/overview", follow_redirects=False).headers["location"] == "/login"
    response = login(client, "alice")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "tansuan_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["username"] == "alice"
    other_device = deployment.client("alice")
    stolen = client.cookies["tansuan_session"]
    out = client.post(
        "/logout", data={"csrf": client.headers["X-CSRF-Token"]}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/api/v1/me").status_code == 403
    # Logout ends every session of the user, and a copied cookie is void.
    assert other_device.get("/api/v1/me").status_code == 403
    replay = deployment.client()
    replay.cookies.set("tansuan_session", stolen)
    assert replay.get("/api/v1/me").status_code == 403


def test_forms_without_the_csrf_token_are_refused(deployment: Deployment) -> None:
    client = deployment.client()
    csrf_of(client)
    bad = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": "x"})
    assert bad.status_code == 403
    login(client, "alice")
    del client.headers["X-CSRF-Token"]
    refused = client.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"]})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_wrong_password_then_rate_limit(deployment: Deployment) -> None:
    client = deployment.client()
    for _ in range(5):
        assert login(client, "olga", "wrong password!").status_code == 401
    # The right password no longer helps until the window has passed.
    blocked = login(client, "olga")
    assert blocked.status_code == 429
    assert client.get("/api/v1/me").status_code == 403


def test_token_is_shown_once_hashed_at_rest_and_scoped(deployment: Deployment) -> None:
    admin = deployment.client("alice")
    made = admin.post("/api/v1/tokens", json={"name": "meter-gw", "scopes": ["ingest"]})
    assert made.status_code == 201
    token = made.json()["token"]
    listed = admin.get("/api/v1/tokens").json()["items"]
    assert token not in str(listed)
    with deployment.store.read() as conn:
        stored = list(conn.execute(select(api_token.c.token_sha256, api_token.c.prefix)))
    assert all(token not in row.token_sha256 for row in stored)
    device = deployment.client()
    auth = {"Authorization": f"Bearer {token}"}
    body = {"site": "demo-site", "point": ["fan-001.power"], "ts": [deployment.now.isoformat()],
            "value": [41.0], "unit": "kW"}  # fmt: skip
    ok = device.post("/api/v1/readings", json=body, headers=auth)
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    # An ingest-only token cannot read, not even organisation totals or the ledger.
    for path in (
        "/api/v1/sites",
        "/api/v1/emissions?node=demo-group&period=2025",
        "/api/v1/ledger/sth",
        "/api/v1/grants",
        "/api/v1/sites/demo-site/tree",
    ):
        assert device.get(path, headers=auth).status_code == 403, path
    # Revoked at once.
    assert admin.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 200
    assert device.post("/api/v1/readings", json=body, headers=auth).status_code == 403


def test_operator_is_read_only(deployment: Deployment) -> None:
    olga = deployment.client("olga")
    assert olga.get("/api/v1/sites").status_code == 200
    body = {"site": "demo-site", "point": ["fan-001.power"], "ts": [deployment.now.isoformat()],
            "value": [41.0]}  # fmt: skip
    assert olga.post("/api/v1/readings", json=body).status_code == 403
    assert olga.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}).status_code == 403
    assert olga.get("/api/v1/users").status_code == 403


def test_unauthenticated_api_calls_are_refused(deployment: Deployment) -> None:
    client = deployment.client()
    response = client.get("/api/v1/sites")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/sites", headers={"Authorization": "Bearer nope"}).status_code == 403


def test_legacy_ingest_token_still_ingests_but_reads_nothing(deployment: Deployment) -> None:
    deployment.app.state.settings = deployment.app.state.settings.model_copy(
        update={"ingest_token": "legacy-secret-token"}
    )
    client = deployment.client()
    auth = {"Authorization": "Bearer legacy-secret-token"}
    body = {"site": "other-site", "point": ["other.energy"], "ts": [deployment.now.isoformat()],
            "value": [99999.0]}  # fmt: skip
    assert client.post("/api/v1/readings", json=body, headers=auth).json()["accepted"] == 1
    assert client.get("/api/v1/sites", headers=auth).status_code == 403


def test_a_planted_csrf_cookie_does_not_validate(deployment: Deployment) -> None:
    """The CSRF token is bound to the session: a cookie the attacker plants (with a
    matching header), or a pair the attacker fetched from the login page, is refused."""
    alice = deployment.client("alice")
    real = alice.headers["X-CSRF-Token"]
    body = {"name": "t", "scopes": ["read"]}
    _plant(alice, "attacker-chosen-value")
    planted = alice.post(
        "/api/v1/tokens", json=body, headers={"X-CSRF-Token": "attacker-chosen-value"}
    )
    assert planted.status_code == 403 and "CSRF" in planted.json()["detail"]
    attacker = deployment.client()
    pair_token = csrf_of(attacker)
    _plant(alice, attacker.cookies["tansuan_csrf"])
    fetched = alice.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": pair_token})
    assert fetched.status_code == 403
    # The same form post through the dashboard is refused too.
    form = alice.post("/admin/tokens", data={"name": "t", "scopes": ["read"], "csrf": pair_token})
    assert form.status_code == 403
    assert (
        alice.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": real}).status_code == 201
    )
    # Another user's token does not fit this session either.
    bob_token = deployment.client("olga").headers["X-CSRF-Token"]
    assert bob_token != real
    assert (
        alice.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": bob_token}).status_code
        == 403
    )


def _plant(client: TestClient, value: str) -> None:
    """Replace the client's ``tansuan_csrf`` cookie, as a sibling subdomain could."""
    for cookie in list(client.cookies.jar):
        if cookie.name == "tansuan_csrf":
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set("tansuan_csrf", value, domain="testserver.local", path="/")
    assert client.cookies["tansuan_csrf"] == value


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limited(deployment: Deployment, *, trusted: list[str], **limits: Any) -> _Clock:
    from tansuan.web import auth

    clock = _Clock()
    deployment.app.state.login_limiter = auth.LoginLimiter(clock=clock, **limits)
    deployment.app.state.settings = deployment.app.state.settings.model_copy(
        update={"trusted_proxies": trusted}
    )
    return clock


def _from(deployment: Deployment, peer: str) -> TestClient:
    client = TestClient(deployment.app, base_url="http://testserver", client=(peer, 50000))
    client.__enter__()
    return client


def _try(client: TestClient, username: str, password: str, xff: str | None = None) -> int:
    token = csrf_of(client)
    headers = {"X-Forwarded-For": xff} if xff else {}
    form = {"username": username, "password": password, "csrf": token}
    return client.post("/login", data=form, headers=headers, follow_redirects=False).status_code


def test_login_limits_are_per_user_and_per_address(deployment: Deployment) -> None:
    """A spray of fresh usernames locks the address, not the users who logged in from it
    before; failures of one username lock it from every address; both end with the window."""
    clock = _limited(deployment, trusted=["10.0.0.1"], user_failures=3, address_failures=5,
                     window_s=60.0)  # fmt: skip
    proxy = _from(deployment, "10.0.0.1")
    office, home, cafe = "198.51.100.7", "203.0.113.9", "192.0.2.44"
    assert _try(proxy, "alice", PASSWORD, office) == 303
    for n in range(5):
        assert _try(proxy, f"fresh-{n}", "guess", office) == 401
    assert _try(proxy, "fresh-x", "guess", office) == 429
    assert _try(proxy, "olga", PASSWORD, office) == 429  # never logged in from the office
    assert _try(proxy, "alice", PASSWORD, office) == 303  # a known user at this address
    assert _try(proxy, "olga", PASSWORD, home) == 303  # the office's lock stays there
    for _ in range(3):
        assert _try(proxy, "olga", "wrong password!", home) == 401
    assert _try(proxy, "olga", PASSWORD, cafe) == 429  # the username is locked everywhere
    assert _try(proxy, "alice", PASSWORD, cafe) == 303
    clock.now += 61
    assert _try(proxy, "olga", PASSWORD, cafe) == 303
    assert _try(proxy, "fresh-y", "guess", office) == 401


def test_forwarded_for_is_believed_only_from_trusted_proxies(deployment: Deployment) -> None:
    _limited(deployment, trusted=[], user_failures=100, address_failures=3, window_s=60.0)
    local = _from(deployment, "127.0.0.1")
    # No trusted proxies: a rotating X-Forwarded-For from 127.0.0.1 does not escape the lock.
    for n in range(3):
        assert _try(local, f"u{n}", "guess", f"192.0.2.{n}") == 401
    assert _try(local, "u9", "guess", "192.0.2.99") == 429
    # Behind a trusted proxy the right-most untrusted hop counts: a forged left part does not.
    _limited(deployment, trusted=["10.0.0.0/8"], user_failures=100, address_failures=3,
             window_s=60.0)  # fmt: skip
    proxy = _from(deployment, "10.1.2.3")
    for n in range(3):
        assert _try(proxy, f"v{n}", "guess", f"198.51.100.{n}, 203.0.113.5, 10.9.9.9") == 401
    assert _try(proxy, "v9", "guess", "198.51.100.77, 203.0.113.5") == 429
    assert _try(proxy, "v9", "guess", "203.0.113.6") == 401  # another client behind it
    # A peer outside the list cannot claim to be a trusted proxy's client.
    outsider = _from(deployment, "192.0.2.200")
    assert _try(outsider, "w1", "guess", "203.0.113.6") == 401


def test_client_address_takes_the_right_most_untrusted_hop() -> None:
    from tansuan.web.auth import client_address, parse_networks

    trusted = parse_networks(["10.0.0.0/8", "fd00::1"])
    assert client_address("10.0.0.2", ["1.1.1.1, 2.2.2.2"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.2", ["1.1.1.1", "2.2.2.2, 10.3.3.3"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.2", ["10.1.1.1, 10.2.2.2"], trusted) == "10.1.1.1"
    assert client_address("10.0.0.2", [], trusted) == "10.0.0.2"
    assert client_address("8.8.8.8", ["1.1.1.1"], trusted) == "8.8.8.8"
    assert client_address("fd00::1", ["2001:db8::5"], trusted) == "2001:db8::5"
    assert client_address("127.0.0.1", ["1.1.1.1"], []) == "127.0.0.1"


def test_the_login_limiter_is_bounded_in_memory() -> None:
    """10,000 failures with fresh usernames from many addresses keep at most ``max_keys``
    entries per table; once the window has passed the sweep empties them."""
    from tansuan.web.auth import LoginLimiter

    clock = _Clock()
    limiter = LoginLimiter(max_keys=100, window_s=60.0, known_s=600.0, clock=clock)
    for n in range(10_000):
        limiter.failed(f"fresh-{n}", f"10.{n // 250}.{n % 250}.1")
        limiter.succeeded(f"fresh-{n}", f"10.{n // 250}.{n % 250}.2")
        clock.now += 0.001
    sizes = limiter.sizes()
    assert max(sizes.values()) <= 100 and sizes["addresses"] == 100, sizes
    # The lock of a recent username survives the eviction of older ones.
    for _ in range(5):
        limiter.failed("target", "192.0.2.1")
    assert limiter.refusal("target", "198.51.100.1") == "user"
    clock.now += 61
    assert limiter.refusal("target", "198.51.100.1") is None
    limiter.failed("one", "192.0.2.9")
    sizes = limiter.sizes()
    assert sizes["users"] == 1 and sizes["addresses"] == 1, sizes
    clock.now += 600
    limiter.failed("two", "192.0.2.9")
    assert limiter.sizes()["known"] == 0
    # A 1 MB username is one short key.
    limiter.failed("x" * 1_000_000, "192.0.2.9")
    assert all(len(k) <= 71 for k in limiter._users)
