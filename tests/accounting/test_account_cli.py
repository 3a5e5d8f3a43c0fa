"""``tansuan site load`` → ``tansuan import`` → ``tansuan account``: the whole CLI path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings

from .test_engine import COAL_MARCH_T, COAL_MONTH_T, COAL_YEAR_T, MODEL, _manual_rows


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


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_account_from_the_stored_model(workdir: Path) -> None:
    """Coal only (no grid readings imported): 11 × 19 602 + 22 397.1 = 238 019.1 tCO2."""
    model = workdir / "site.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    run("site", "load", str(model))
    months = list(range(1, 13))
    run(
        "import",
        "--kind",
        "fuel",
        str(_csv(workdir / "use.csv", _manual_rows("coal-use", "t", 10_000, months))),
    )
    run(
        "import",
        "--kind",
        "lab",
        str(_csv(workdir / "ncv.csv", _manual_rows("coal-ncv", "GJ/t", 20, months))),
    )
    no_march = [m for m in months if m != 3]
    run(
        "import",
        "--kind",
        "lab",
        str(_csv(workdir / "cc.csv", _manual_rows("coal-cc", "tC/GJ", 0.027, no_march))),
    )

    out = json.loads(
        run("account", "--site", "plant", "--period", "2024", "--source", "coal", "--json")
    )
    assert out["outcomes"] == {"created": 12}
    assert out["total_co2e_t"] == pytest.approx(COAL_YEAR_T, abs=1e-5)
    by_month = {r["month"]: r["co2e_t"] for r in out["results"]}
    assert by_month["2024-01"] == pytest.approx(COAL_MONTH_T, abs=1e-6)
    assert by_month["2024-03"] == pytest.approx(COAL_MARCH_T, abs=1e-6)
    march = next(r for r in out["results"] if r["month"] == "2024-03")
    assert any("carbon_content_per_heat" in note for note in march["notes"])

    table = run(
        "account", "--site", "plant", "--period", "2024-03", "--source", "coal", "--by", "scope"
    )
    assert "22,397.100" in table  # the March figure, in the table
    assert "unchanged 1" in table  # a re-run saves nothing new


def test_account_without_a_loaded_model_is_a_clear_error(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["account", "--site", "plant", "--period", "2024"])
    assert result.exit_code == 1
    assert "site load" in result.output
