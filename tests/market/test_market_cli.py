"""``tansuan position``: import, trade add / cancel, set — against the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings
from tansuan.store import Store

FILE = {"entity": "plant-1", "year": 2022, "price": 80, "allocation": 1000,
        "emissions": {"mean": 1200, "sd": 0}}  # fmt: skip


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def env(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(FILE), encoding="utf-8")
    yield path
    get_settings.cache_clear()


def _account() -> dict[str, object]:
    return json.loads(run("position", "--site", "site", "--json"))


def test_trades_and_entered_values_from_the_cli(env: Path) -> None:
    """Allocation 1 000 t, emissions 1 200 t (2022 rules: 20 % shortfall cap does not bind:
    (1 200 − 1 000)/1 200 = 16.7 %). Buying 150 t leaves 50 t short; verified 1 100 t and
    the purchase leave 50 t over; cancelling the purchase leaves 100 t short."""
    run("position", "import", str(env), "--site", "site")
    out = run("position", "trade", "add", "--site", "site", "--year", "2022", "--date",
              "2022-05-01", "--side", "buy", "--instrument", "CEA", "--quantity", "150",
              "--price", "55", "--note", "exchange")  # fmt: skip
    assert "trade #1" in out
    acc = _account()
    assert acc["position"]["shortfall"] == pytest.approx(50)
    [trade] = acc["account"]["trades"]
    assert trade["entered_by"].startswith("cli") and trade["note"] == "exchange"
    assert trade["leaf_index"] is not None
    run("position", "set", "--site", "site", "--year", "2022", "--verified", "1100")
    acc = _account()
    assert acc["emissions_basis"] == "verified"
    assert acc["position"]["surplus"] == pytest.approx(50)
    run("position", "trade", "cancel", "1", "--site", "site")
    acc = _account()
    assert acc["position"]["shortfall"] == pytest.approx(100)
    assert acc["account"]["trades"][0]["cancelled_at"] is not None
    assert "cancelled" in run("position", "--site", "site")
    assert acc["account"]["version"] == 2


def test_refused_cli_input_is_clear_and_changes_nothing(env: Path) -> None:
    run("position", "import", str(env), "--site", "site")
    before = _account()
    sale = ["position", "trade", "add", "--site", "site", "--year", "2022", "--date",
            "2022-05-01", "--side", "sell", "--instrument", "CEA", "--price", "55"]  # fmt: skip
    too_much = run(*sale, "--quantity", "1001", code=1)
    assert "错误 / error" in too_much and "more CEA sold than held" in too_much
    bad = run(*[("short" if a == "sell" else a) for a in sale], "--quantity", "1", code=1)
    assert "side" in bad
    assert "no open trade" in run("position", "trade", "cancel", "7", "--site", "site", code=1)
    assert "nothing to set" in run("position", "set", "--site", "site", "--year", "2022", code=1)
    assert "no allowance account" in run("position", "--site", "site", "--year", "2030", code=1)
    assert "no site 'elsewhere'" in run("position", "import", str(env), "--site", "elsewhere",
                                         code=1)  # fmt: skip
    env.write_text("entity: [unclosed\n", encoding="utf-8")
    assert "不是 YAML 文件" in run("position", "import", str(env), code=1)
    bad_date = FILE | {"trades": [{"date": "2022-13-01", "side": "buy", "instrument": "CEA",
                                   "quantity": 1, "price": 1}]}  # fmt: skip
    env.write_text(yaml.safe_dump(bad_date), encoding="utf-8")
    out = run("position", "import", str(env), "--site", "site", code=1)
    assert "trades.0.date" in out and "配额账户文件 / compliance file" in out
    assert _account() == before
