"""``tansuan period file|reopen`` and ``tansuan proposals list|accept|reject``: the four-eyes
workflow through the CLI, on SQLite and PostgreSQL, with its ledger leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings
from tansuan.store.schema.ledger import ledger_leaves

from .test_engine import COAL_MONTH_T, MODEL, _manual_rows

PASSWORD = "filing-test-pw"
#: January with 10,100 t of coal instead of 10,000 t: 10,100 × 20 GJ/t = 202,000 GJ;
#: × 0.027 tC/GJ = 5,454 tC; × 0.99 = 5,399.46 tC; × 44/12 = 19,798.02 tCO2.
CORRECTED_T = 19_798.02


@pytest.fixture
def workdir(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _csv(path: Path, rows: list[list[object]]) -> Path:
    path.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n", "utf-8")
    return path


def run(*args: str, code: int = 0) -> str:
    """The command's output, lines joined (a long message wraps at the console's width)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output if code == 0 else " ".join(result.output.split())


def _leaves(db_url: str, kind: str) -> list[dict[str, object]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ledger_leaves.c.payload)
                .where(ledger_leaves.c.kind == kind)
                .order_by(ledger_leaves.c.leaf_index)
            )
            return [orjson.loads(p) for (p,) in rows]
    finally:
        engine.dispose()


def _setup(workdir: Path, coal_t: float) -> None:
    model = workdir / "site.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    run("site", "load", str(model))
    for name, role in (("lin", "carbon_accountant"), ("zhao", "approver"), ("qian", "operator"),
                       ("root", "admin")):  # fmt: skip
        run("user", "add", name, "--org", "grp", "--role", role, "--password", PASSWORD)
    _import(workdir, coal_t)
    rows = _manual_rows("coal-ncv", "GJ/t", 20, [1])
    run("import", "--kind", "lab", str(_csv(workdir / "ncv.csv", rows)))
    rows = _manual_rows("coal-cc", "tC/GJ", 0.027, [1])
    run("import", "--kind", "lab", str(_csv(workdir / "cc.csv", rows)))


def _import(workdir: Path, coal_t: float) -> None:
    rows = _manual_rows("coal-use", "t", coal_t, [1])
    run("import", "--kind", "fuel", str(_csv(workdir / "use.csv", rows)))


def _account(user: str) -> dict[str, object]:
    out = run("account", "--site", "plant", "--period", "2024-01", "--source", "coal",
              "--json", "--as", user)  # fmt: skip
    value: dict[str, object] = json.loads(out)
    return value


def test_file_propose_accept_through_the_cli(workdir: Path, db_url: str) -> None:
    """January filed at 19,602 t; corrected coal (10,100 t) gives 19,798.02 t, proposed by
    root (admin); root may not accept it (four eyes), lin (accountant) and qian (operator)
    may not either, zhao (approver) does. Difference +196.02 t."""
    _setup(workdir, 10_000)
    assert _account("lin")["outcomes"] == {"created": 1}
    out = run("period", "file", "--site", "plant", "--period", "2024-01", "--as", "lin")
    assert "filed plant 2024-01: coal v1" in out
    _import(workdir, 10_100)
    assert _account("root")["outcomes"] == {"proposed": 1}
    listed = json.loads(run("proposals", "list", "--site", "plant", "--as", "zhao", "--json"))
    [proposal] = listed["proposals"]
    assert proposal["computed_by"] == "root"
    assert proposal["current_co2e_t"] == pytest.approx(COAL_MONTH_T, abs=1e-6)
    assert proposal["co2e_t"] == pytest.approx(CORRECTED_T, abs=1e-6)
    assert proposal["difference_t"] == pytest.approx(196.02, abs=1e-6)
    assert [f["filed_by"] for f in listed["filed"]] == ["lin"]
    table = run("proposals", "list", "--site", "plant", "--as", "zhao")
    assert "19,798.020" in table and "+196.020" in table

    pid = str(proposal["id"])
    refused = run("proposals", "accept", pid, "--as", "root", code=1)
    assert "four eyes: root proposed" in refused and "四眼原则" in refused
    for user in ("lin", "qian"):
        refused = run("proposals", "accept", pid, "--as", user, code=1)
        assert "may not accept proposals" in refused
    run("proposals", "reject", pid, "--as", "zhao", code=2)  # --reason is required
    assert "accepted coal 2024-01 v2" in run("proposals", "accept", pid, "--as", "zhao")
    assert (
        json.loads(run("proposals", "list", "--site", "plant", "--as", "zhao", "--json"))[
            "proposals"
        ]
        == []
    )
    shown = json.loads(
        run("account", "--site", "plant", "--period", "2024-01", "--source", "coal", "--json")
    )
    assert shown["total_co2e_t"] == pytest.approx(CORRECTED_T, abs=1e-6)

    steps = [(leaf["action"], leaf["by"]) for leaf in _leaves(db_url, "proposal")]
    assert steps == [("propose", "root"), ("accept", "zhao")]
    assert [(leaf["action"], leaf["by"]) for leaf in _leaves(db_url, "filing")] == [("file", "lin")]


def test_reopen_and_refusals(workdir: Path, db_url: str) -> None:
    """Only an approver reopens, with a reason; unknown users and other organisations'
    sites are refused; a refused step logs nothing."""
    _setup(workdir, 10_000)
    _account("lin")
    run("period", "file", "--site", "plant", "--period", "2024-01", "--as", "lin")
    out = run("period", "file", "--site", "plant", "--period", "2024-01", "--as", "lin", code=1)
    assert "already filed: 2024-01" in out
    out = run("period", "reopen", "--site", "plant", "--period", "2024-01", "--as", "lin",
              "--reason", "x", code=1)  # fmt: skip
    assert "may not reopen filed months" in out
    out = run("period", "file", "--site", "other", "--period", "2024-01", "--as", "lin", code=1)
    assert "no site 'other'" in out
    out = run("period", "file", "--site", "plant", "--period", "2024-02", "--as", "nobody",
              code=1)  # fmt: skip
    assert "no user 'nobody'" in out
    out = run("account", "--site", "plant", "--period", "2024-01", "--as", "zhao", code=1)
    assert "may not run accounting" in out
    run("period", "reopen", "--site", "plant", "--period", "2024-01", "--as", "zhao",
        "--reason", "late invoice")  # fmt: skip
    _import(workdir, 10_100)
    assert _account("lin")["outcomes"] == {"superseded": 1}  # open again: no proposal
    assert [(leaf["action"], leaf["by"]) for leaf in _leaves(db_url, "filing")] == [
        ("file", "lin"),
        ("reopen", "zhao"),
    ]
    assert _leaves(db_url, "proposal") == []
