"""``tansuan user add``, ``tansuan token create`` and ``tansuan serve`` (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings
from tansuan.store import Store
from tansuan.store.schema import api_token, web_user
from tests.web.browser import free_port


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "TANSUAN_DATA_DIR": str(tmp_path / "data"),
        "TANSUAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TANSUAN_DEMO": "true",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def test_user_add_and_token_create(env: dict[str, str]) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "gw-owner", "--org", "demo-group", "--new-org",
                                "--role", "energy_manager", "--password",
                                "long enough pw"])  # fmt: skip
    assert added.exit_code == 0, added.output
    made = runner.invoke(app, ["token", "create", "gw-owner", "--name", "modbus gw"])
    assert made.exit_code == 0, made.output
    token = next(line for line in made.output.splitlines() if line.startswith("tsn_"))
    store = Store(env["TANSUAN_DATABASE_URL"])
    with store.read() as conn:
        assert conn.execute(select(web_user.c.role)).scalar() == "energy_manager"
        row = conn.execute(select(api_token.c.scopes, api_token.c.token_sha256)).one()
    store.close()
    assert row.scopes == "ingest" and token not in row.token_sha256
    bad = runner.invoke(app, ["user", "add", "x", "--org", "o", "--role", "king", "--password",
                              "long enough pw"])  # fmt: skip
    assert bad.exit_code == 2 and "role must be one of" in bad.output


def test_user_add_checks_everything_before_asking_the_password(
    env: dict[str, str], examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 #15: an unknown organisation, role or taken username is refused before the
    password prompt, and nothing is stored; an organisation of the loaded site model (or
    one declared --new-org) is taken."""
    runner = CliRunner()
    loaded = runner.invoke(app, ["site", "load", str(examples / "site.yaml")])
    assert loaded.exit_code == 0, loaded.output
    asked: list[str] = []

    def getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return "long enough pw"

    monkeypatch.setattr("getpass.getpass", getpass)
    nosuch = runner.invoke(app, ["user", "add", "alice", "--org", "nosuch-org"])
    assert nosuch.exit_code == 2, nosuch.output
    text = " ".join(nosuch.output.split())
    assert "nosuch-org" in text and "demo-group" in text and "--new-org" in text
    king = runner.invoke(app, ["user", "add", "alice", "--org", "demo-group", "--role", "king"])
    assert king.exit_code == 2 and "role must be one of" in king.output
    assert asked == []  # never prompted
    given = runner.invoke(app, ["user", "add", "alice", "--org", "nosuch-org", "--password",
                                "long enough pw"])  # fmt: skip
    assert given.exit_code == 2, given.output
    store = Store(env["TANSUAN_DATABASE_URL"])
    with store.read() as conn:
        assert conn.execute(select(web_user.c.username)).all() == []
    store.close()

    ok = runner.invoke(app, ["user", "add", "alice", "--org", "demo-group"])
    assert ok.exit_code == 0, ok.output
    assert len(asked) == 1
    taken = runner.invoke(app, ["user", "add", "alice", "--org", "demo-group"])
    assert taken.exit_code == 2 and "is taken" in taken.output and len(asked) == 1
    short = runner.invoke(app, ["user", "add", "vera", "--org", "audit-co", "--new-org",
                                "--password", "short"])  # fmt: skip
    assert short.exit_code == 2 and "10+" in short.output
    verifier = runner.invoke(app, ["user", "add", "vera", "--org", "audit-co", "--new-org",
                                   "--role", "verifier"])  # fmt: skip
    assert verifier.exit_code == 0, verifier.output
    store = Store(env["TANSUAN_DATABASE_URL"])
    with store.read() as conn:
        rows = conn.execute(select(web_user.c.username, web_user.c.org_key)).all()
    store.close()
    assert sorted(map(tuple, rows)) == [("alice", "demo-group"), ("vera", "audit-co")]


def test_serve_runs_the_app(env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "tansuan serve did not answer in 30 s"
                time.sleep(0.2)
        assert response.status_code == 200 and "碳算" in response.text
        docs = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/v1/ledger/sth" in docs["paths"]
    finally:
        process.terminate()
        process.wait(15)
        if process.stdout:
            process.stdout.close()
