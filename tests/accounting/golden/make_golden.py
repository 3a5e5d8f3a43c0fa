"""Build the golden outputs of ``tansuan calc`` and ``tansuan account`` (reference files).

The files next to this script were written by it from the code *before* the method
dispatch moved into :mod:`tansuan.accounting`; ``tests/accounting/test_dispatch_golden.py``
asserts that today's code still prints them byte for byte. Regenerate them only when an
output is meant to change::

    PYTHONPATH=src python tests/accounting/golden/make_golden.py

Everything is deterministic: a fixed site model and fixed readings (built by code, the way
``tests/accounting/test_engine.py`` builds its store), a fresh SQLite store, no timestamps
in the outputs, and the CLI run in a fresh process with a fixed terminal width.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
EXAMPLE = ROOT / "examples" / "plant.yaml"
#: Terminal width of the rendered tables (Rich reads COLUMNS when the console is built).
COLUMNS = "120"
TZ = ZoneInfo("Asia/Shanghai")

#: A small site with one source per kind of input the accounting engine reads: manual
#: series (coal, with the power-guideline series and a month without carbon analysis),
#: an energy counter (grid, with market instruments as fixed values), a rate point
#: integrated hour by hour (diesel), fixed values (steam, kiln, switchgear, chiller),
#: hourly CEMS arrays with the moisture as a point, and a mass balance (refused).
MODEL: dict[str, Any] = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "gold",
                        "timezone": "Asia/Shanghai",
                        "grid_region": "east",
                        "areas": [
                            {
                                "id": "works",
                                "devices": [
                                    {
                                        "id": "boiler",
                                        "class": "boiler",
                                        "points": [
                                            {"id": "co2", "quantity": "concentration",
                                             "unit": "mg/m3", "interval_s": 3600},
                                            {"id": "flow", "quantity": "flow",
                                             "unit": "m3/h", "interval_s": 3600},
                                            {"id": "moisture", "quantity": "moisture",
                                             "unit": "percent", "interval_s": 3600},
                                        ],
                                    },
                                    {
                                        "id": "genset",
                                        "class": "generator",
                                        "points": [
                                            {"id": "diesel", "quantity": "fuel flow",
                                             "unit": "t/h", "interval_s": 3600},
                                        ],
                                    },
                                    {
                                        "id": "grid-meter",
                                        "class": "meter",
                                        "points": [
                                            {"id": "grid.energy", "quantity": "energy",
                                             "unit": "kWh", "kind": "total_increasing",
                                             "interval_s": 3600},
                                        ],
                                    },
                                ],
                            }
                        ],
                        "series": [
                            {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                            {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                            {"id": "coal-cc", "kind": "lab_carbon_per_heat", "unit": "tC/GJ"},
                        ],
                        "sources": [
                            {"id": "coal", "method": "combustion", "device": "boiler",
                             "fuel": "raw_coal", "monthly": True,
                             "activity": [{"series": "coal-use"}],
                             "parameters": {"ncv": {"series": "coal-ncv"},
                                            "carbon_content_per_heat": {"series": "coal-cc"},
                                            "series": {"value": "mee_power"}}},
                            {"id": "genset", "method": "combustion", "device": "genset",
                             "fuel": "diesel", "gap_fill": "interpolate",
                             "activity": [{"point": "diesel"}],
                             "parameters": {"oxidation": {"value": "98 %"}}},
                            {"id": "grid", "method": "electricity", "scope": 2,
                             "device": "grid-meter", "activity": [{"point": "grid.energy"}],
                             "parameters": {"green_certificates": {"value": "20 MWh"}}},
                            {"id": "steam", "method": "heat", "scope": 2,
                             "activity": [{"value": "1200 GJ"}],
                             "parameters": {"factor": {"value": "0.098 tCO2/GJ"}}},
                            {"id": "kiln", "method": "process", "material": "limestone",
                             "activity": [{"value": "500 t"}]},
                            {"id": "switchgear", "method": "direct", "material": "SF6",
                             "activity": [{"value": "0.01 t"}]},
                            {"id": "chiller", "method": "refrigerant", "material": "R-410A",
                             "activity": [{"value": "0.01 t"}]},
                            {"id": "reactor", "method": "mass_balance",
                             "activity": [{"value": "1 t"}]},
                            {"id": "stack", "method": "cems", "device": "boiler",
                             "activity": [{"point": "co2"}, {"point": "flow"}],
                             "parameters": {"moisture": {"point": "moisture"},
                                            "basis": {"value": "wet"}}},
                        ],
                    }
                ],
            }
        ],
    },
}  # fmt: skip

#: The reference files, in the order :func:`outputs` writes them.
FILES = (
    "calc_plant.json",
    "calc_plant.txt",
    "scenario_shipyard.txt",
    "account_gold.json",
    "account_gold.txt",
    "account_gold_results.json",
)
PERIOD = "2024-Q1"
ACCOUNT_ARGS = ["account", "--site", "gold", "--period", PERIOD]


def _manual_rows(series: str, unit: str, value: float, months: list[int]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    ]
    for month in months:
        first = dt.date(2024, month, 1)
        last = dt.date(2024, month + 1, 1) - dt.timedelta(days=1)
        rows.append(
            ["gold", series, first.isoformat(), last.isoformat(), value, unit, f"{series}-{month}"]
        )
    return rows


def build_store(db_url: str, model_file: Path) -> None:
    """Load the model and fixed data for Q1 2024 into a fresh store at ``db_url``."""
    import yaml

    from tansuan.ingest.ingestor import Ingestor
    from tansuan.ingest.manual import import_table
    from tansuan.site.model import SiteModel
    from tansuan.store import Store
    from tansuan.store.timeutil import to_us

    model_file.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    store = Store(db_url)
    try:
        store.load_model(SiteModel.model_validate(MODEL))
        months = [1, 2, 3]
        for rows, kind in (
            (_manual_rows("coal-use", "t", 10_000, months), "fuel"),
            (_manual_rows("coal-ncv", "GJ/t", 20.5, months), "lab"),
            (_manual_rows("coal-cc", "tC/GJ", 0.0271, [1, 3]), "lab"),
        ):
            assert not import_table(store, rows, kind=kind).errors
        # grid.energy: 137.5 kWh per hour from local 2023-12-31 23:00 to 2024-03-31 23:00.
        # A delta covers (previous reading, reading]: January and February get their
        # hours × 137.5 kWh; March 743 × 137.5 = 102,162.5 kWh (its last hour, 23:00 to
        # 04-01 00:00, has no closing reading; the reading at 03-01 00:00 closes February).
        start = dt.datetime(2023, 12, 31, 23, tzinfo=TZ)
        hours = [start + dt.timedelta(hours=h) for h in range(24 * 91 + 1)]
        stamps = [to_us(h) for h in hours]
        points: list[str] = []
        values: list[float] = []
        times: list[int] = []
        for i, ts in enumerate(stamps):
            points.append("grid.energy")
            values.append(137.5 * i)
            times.append(ts)
            if i == 0 or 300 <= i < 304:  # the first hour is December; a 4-hour CEMS gap
                continue
            for point, value in (
                ("co2", 150_000.0 + 10.0 * (i % 7)),
                ("flow", 100_000.0 + 25.0 * (i % 5)),
                ("moisture", 8.0 + 0.1 * (i % 3)),
            ):
                points.append(point)
                values.append(value)
                times.append(ts)
            if not 500 <= i < 503:
                points.append("diesel")
                values.append(0.5 + 0.01 * (i % 4))
                times.append(ts)
        result = Ingestor(store).ingest_columns("gold", points, times, values)
        assert result.rejected == 0, result
    finally:
        store.close()


@contextmanager
def _environment(workdir: Path) -> Iterator[str]:
    """Settings pointing at a fresh SQLite store in ``workdir``; restored afterwards."""
    from tansuan.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("TANSUAN_DATA_DIR", "TANSUAN_DATABASE_URL")}
    db_url = f"sqlite:///{workdir / 'gold.db'}"
    os.environ["TANSUAN_DATA_DIR"] = str(workdir / "var")
    os.environ["TANSUAN_DATABASE_URL"] = db_url
    get_settings.cache_clear()
    try:
        yield db_url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def _invoke(args: list[str], code: int = 0) -> str:
    """Run the ``tansuan`` console-script entry point in a fresh process; its stdout.

    A fresh process gives the Rich console a fixed width (``COLUMNS``) and no terminal.
    """
    env = {**os.environ, "COLUMNS": COLUMNS, "PYTHONPATH": str(ROOT / "src")}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [sys.executable, "-c", "from tansuan.cli import main; main()", *args],
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.returncode == code, result.stderr.decode()
    return result.stdout.decode("utf-8")


def _scenario() -> str:
    """The what-if outcomes (every number repr'd), a fuel switch with green power."""
    from tansuan.twin.scenario import Change, compare

    comparison = compare(
        "shipyard", Change(fuel="natural_gas", green_share=0.25), days=2, end=dt.date(2025, 6, 29)
    )
    lines = []
    for name in ("baseline", "scenario"):
        outcome = getattr(comparison, name)
        for key, value in dataclasses.asdict(outcome).items():
            lines.append(f"{name}.{key} = {value!r}")
    return "\n".join(lines) + "\n"


def outputs(workdir: Path) -> dict[str, str]:
    """Every golden output, by file name, computed by the code on ``sys.path``."""
    import orjson

    from tansuan.accounting.engine import Accountant
    from tansuan.accounting.periods import parse_period
    from tansuan.site.validate import load
    from tansuan.store import Store

    out = {
        "calc_plant.json": _invoke(["calc", "--json", str(EXAMPLE)]),
        "calc_plant.txt": _invoke(["calc", str(EXAMPLE)]),
        "scenario_shipyard.txt": _scenario(),
    }
    model_file = workdir / "gold.yaml"
    with _environment(workdir) as db_url:
        build_store(db_url, model_file)
        model = ["--model", str(model_file)]
        # exit 3: the mass balance is refused by the engine, so its months are failed
        out["account_gold.json"] = _invoke([*ACCOUNT_ARGS, *model, "--json"], code=3)
        out["account_gold.txt"] = _invoke([*ACCOUNT_ARGS, *model, "--by", "scope"], code=3)
        # The stored result sets themselves: traces, digest inputs and lines per month.
        store = Store(db_url)
        try:
            report = Accountant(store, load(model_file)).run("gold", parse_period(PERIOD))
        finally:
            store.close()
        sets = [
            {
                "source": r.source_id,
                "period": r.period,
                "method": r.method,
                "lines": [dataclasses.asdict(line) for line in r.lines],
                "grade": r.grade,
                "coverage": r.coverage,
                "substituted_share": r.substituted_share,
                "notes": list(r.notes),
                "counted": r.counted,
                "state": r.state,
                "problem": r.problem,
                "fix": r.fix,
                "digest": r.digest(),
                "inputs": r.inputs,
                "trace": r.trace,
            }
            for r in report.computed
        ]
        errors = [list(e) for e in report.errors]
        body = {"results": sets, "errors": errors}
        out["account_gold_results.json"] = (
            orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
        )
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in outputs(Path(tmp)).items():
            (HERE / name).write_text(text, encoding="utf-8")
            sys.stderr.write(f"wrote {HERE / name}\n")


if __name__ == "__main__":
    main()
