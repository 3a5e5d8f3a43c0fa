"""Fixtures of the web tests: a two-tenant deployment behind the real app."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.demo import PASSWORD, build


class Deployment:
    def __init__(self, store: Store, app: Any, built: dict[str, Any], now: dt.datetime) -> None:
        self.store, self.app, self.built, self.now = store, app, built, now

    def client(self, username: str | None = None) -> TestClient:
        """A client logged in as ``username`` (session cookie + CSRF token)."""
        client = TestClient(self.app, base_url="http://testserver")
        client.__enter__()
        if username:
            login(client, username)
        return client


def csrf_of(client: TestClient) -> str:
    page = client.get("/login").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the login form carries a CSRF token"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token},
        follow_redirects=False,
    )
    # The token is bound to the session: logging in changes it.
    client.headers["X-CSRF-Token"] = csrf_of(client)
    return response


@pytest.fixture
def deployment(db_url: str, tmp_path: Path) -> Iterator[Deployment]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, demo=True)
    store = Store(db_url, settings=settings)
    now = FROZEN_NOW.astimezone(dt.UTC)
    built = build(store, now)
    app = create_app(settings, store=store)
    yield Deployment(store, app, built, now)
    store.close()
