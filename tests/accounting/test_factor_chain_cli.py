"""``tansuan site validate`` → ``site load`` → ``import`` → ``account --trace``: the factor
chain from the command line.

The site (``works``, ``sector: power``) is the one of test_factor_chain.py: a raw-coal
boiler, 10 000 t of coal in January 2024 and in February, lab NCV 20 GJ/t in both, lab
carbon 0.027 tC/GJ in January only, no oxidation rate in the model.

Expected (fuels.csv rows ``fuel.mee_power.raw_coal.oxidation`` 99 % and
``fuel.mee_power.raw_coal.carbon_per_heat.2022`` 0.03085 tC/GJ):
January 200 000 GJ × 0.027 × 0.99 × 44/12 = **19 602 t**;
February 200 000 GJ × 0.03085 × 0.99 × 44/12 = **22 397.1 t**; together **41 999.1 t**.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings

from .test_factor_chain import _model, _rows


@pytest.fixture
def workdir(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _load(workdir: Path, model: dict[str, Any]) -> Path:
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    _run("site", "validate", str(path))
    _run("site", "load", str(path))
    for kind, series, unit, value, months in (
        ("fuel", "coal-use", "t", 10_000, [1, 2]),
        ("lab", "coal-ncv", "GJ/t", 20, [1, 2]),
        ("lab", "coal-cc", "tC/GJ", 0.027, [1]),
    ):
        rows = _rows(series, unit, value, months)
        csv = workdir / f"{series}.csv"
        csv.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n", "utf-8")
        _run("import", "--kind", kind, str(csv))
    return path


def test_account_trace_names_the_step_of_each_parameter(workdir: Path) -> None:
    """The table shows 41 999.1 t; the trace of each month names measured, sector
    default (with the mee_power row id) and default (44/12, GWP) steps; ``--json`` gives
    the same steps per parameter."""
    _load(workdir, _model({"sector": "power"}))
    out = _run("account", "--site", "works", "--period", "2024-01-01..2024-03-01", "--trace")
    assert "41,999.100" in out
    assert "boiler 2024-01" in out and "boiler 2024-02" in out
    assert "series mee_power, sector power" in out
    assert "实测 measured" in out
    assert "行业缺省 sector default" in out
    assert "fuel.mee_power.raw_coal.oxidation" in out
    assert "fuel.mee_power.raw_coal.carbon_per_heat.2022" in out  # February's carbon
    record = json.loads(
        _run("account", "--site", "works", "--period", "2024-02", "--trace", "--json")
    )
    (traced,) = record["traces"]
    steps = {f["name"]: f["step"] for f in traced["factors"]}
    assert steps == {
        "ncv": "measured",
        "carbon_per_heat": "sector_default",
        "oxidation": "sector_default",
        "co2_per_c": "default",
        "gwp_CO2": "default",
    }
    assert traced["factor_chain"]["factor_series"] == "mee_power"


def test_validate_and_account_without_sector_say_what_to_fix(workdir: Path) -> None:
    """No sector, no oxidation: ``site validate`` refuses the model (exit 1) naming
    ``oxidation`` and mee_power; the accounting run of the same model reports January's
    error with the parameter, the series looked in and the fix."""
    path = workdir / "nosector.yaml"
    path.write_text(yaml.safe_dump(_model(), allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["site", "validate", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "chain.no_value" in result.output and "sources[0].oxidation" in result.output
    _load(workdir, _model({"sector": "power"}))  # store and data, then the model without
    result = CliRunner().invoke(
        app,
        ["account", "--site", "works", "--period", "2024-01", "--model", str(path)],
        env={"COLUMNS": "200"},
    )
    flat = " ".join(result.output.split())
    assert "source boiler has no oxidation" in flat
    assert "series mee_2013 (catalog)" in flat
