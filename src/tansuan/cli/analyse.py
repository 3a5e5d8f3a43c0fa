"""CLI: ``tansuan analyse`` and ``tansuan forecast``.

Both read daily / monthly values from the store (``--site`` with ``--point`` or ``--node``,
or the accounting results with ``forecast --emissions``) or from a CSV file. Output is a
Rich table, or JSON with ``--json``. ``tansuan position`` is in :mod:`tansuan.cli.position`.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, fail
from tansuan.errors import InputError, TansuanError

if TYPE_CHECKING:
    import numpy as np


# --- reading data -----------------------------------------------------------------------


def _csv_table(path: Path, key: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """Columns of a CSV with a ``key`` column (date or month) and numeric columns."""
    import numpy as np

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", field="csv") from exc
    if not rows or key not in rows[0]:
        raise InputError(f"{path}: needs a header with a {key!r} column and data rows", field="csv")
    keys = [r[key].strip() for r in rows]
    columns: dict[str, np.ndarray] = {}
    for name in rows[0]:
        if name == key:
            continue
        try:
            columns[name] = np.array([float(r[name]) for r in rows])
        except (TypeError, ValueError):
            raise InputError(
                f"{path}: column {name!r} has a value that is not a number", field=name
            ) from None
    return keys, columns


def _read(read: Any) -> Any:
    """``read(connection)`` in a read transaction of the store (opened and closed here)."""
    from tansuan.store import Store

    store = Store()
    try:
        with store.read() as connection:
            return read(connection)
    finally:
        store.close()


def _site_read(site: str, read: Any) -> Any:
    """``read(connection, site model)`` with the stored model's ``site``."""
    from tansuan.store import Store
    from tansuan.store.documents import current_model

    store = Store()
    try:
        site_model = current_model(store).site(site)
        with store.read() as connection:
            return read(connection, site_model)
    finally:
        store.close()


def _parse_drivers(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, point = item.partition("=")
        if not sep or not name or not point:
            raise InputError(f"driver {item!r} must look like NAME=POINT", field="driver")
        out[name] = point
    return out


def _date(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=field) from None


def _emit(data: dict[str, Any]) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


# --- tansuan analyse --------------------------------------------------------------------


def analyse(
    site: str | None = typer.Option(None, "--site", help="site id (store mode)"),
    point: str | None = typer.Option(None, "--point", help="energy point (store mode)"),
    node: str | None = typer.Option(
        None, "--node", help="all energy meters under a line/area/site"
    ),
    device_class: str | None = typer.Option(
        None, "--class", help="all devices of a class (fan, compressor, …) of --site"
    ),
    driver: list[str] = typer.Option(
        [], "--driver", help="NAME=POINT relevant variable (repeatable)"
    ),
    start: str | None = typer.Option(None, "--from", help="first day YYYY-MM-DD (store mode)"),
    end: str | None = typer.Option(None, "--to", help="day after the last YYYY-MM-DD (store mode)"),
    csv_file: Path | None = typer.Option(None, "--csv", help="daily CSV: date,energy,<drivers…>"),
    baseline_end: str | None = typer.Option(
        None, "--baseline-end", help="first day after the baseline"
    ),
    intervention: str | None = typer.Option(None, "--intervention", help="day of the intervention"),
    option: str = typer.Option("B", "--option", help="IPMVP option B or C"),
    confidence: float = typer.Option(
        0.9, "--confidence", help="two-sided confidence of the interval"
    ),
    factor: float | None = typer.Option(
        None, "--factor-t-per-mwh", help="emission factor [tCO2/MWh]"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Baseline, CUSUM and savings for one energy series / 能耗基线、CUSUM 与节能量核证.

    The baseline (ISO 50006 regression on the drivers) is fitted on the days before
    --baseline-end (or --intervention); the days after are monitored by CUSUM, and with
    --intervention the IPMVP avoided energy and its G14 uncertainty are reported.
    """
    from tansuan.views.savings import series_analysis

    try:
        if sum(x is not None for x in (point, node, device_class)) > 1:
            raise InputError("give one of --point, --node, --class", field="point")
        days, energy, drivers = _daily_input(
            site, point or node or device_class, driver, start, end, csv_file, console,
            node=node is not None, device_class=device_class is not None,
        )  # fmt: skip
        cut = _date(baseline_end, "baseline-end") or _date(intervention, "intervention")
        if cut is None:
            raise InputError("give --baseline-end or --intervention", field="baseline-end")
        day = _date(intervention, "intervention")
        out = series_analysis(days, energy, drivers, cut, intervention=day, option=option,
                              confidence=confidence, factor_t_per_mwh=factor)  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    if as_json:
        _emit(out)
        return
    _print_analysis(out)


def _daily_input(
    site: str | None,
    point: str | None,
    driver: list[str],
    start: str | None,
    end: str | None,
    csv_file: Path | None,
    console: Any,
    *,
    node: bool = False,
    device_class: bool = False,
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    import numpy as np

    if csv_file is not None:
        days, columns = _csv_table(csv_file, "date")
        if "energy" not in columns:
            raise InputError(f"{csv_file}: needs an 'energy' column", field="csv")
        energy = columns.pop("energy")
        for day in days:
            _date(day, "date")
        order = sorted(range(len(days)), key=lambda i: days[i])
        if len(set(days)) != len(days):
            raise InputError(f"{csv_file}: a date appears twice", field="date")
        return [days[i] for i in order], energy[order], {k: v[order] for k, v in columns.items()}
    if not (site and point and start and end):
        raise InputError(
            "give --csv FILE, or --site, --point (or --node, --class), --from and --to",
            field="site",
        )
    lo, hi = _date(start, "from"), _date(end, "to")
    assert lo is not None and hi is not None
    from tansuan.views.energy import class_days, node_days, point_series

    with console.status("读取数据 / reading the store …"):
        if node:
            energy_days = _site_read(site, lambda c, m: node_days(c, m, point, lo, hi))
        elif device_class:
            energy_days = _site_read(site, lambda c, m: class_days(c, m, point, lo, hi))
        else:
            energy_days = _read(lambda c: point_series(c, site, point, lo, hi, "day",
                                                       as_energy=True))  # fmt: skip
        series = {"energy": energy_days}
        for name, pt in _parse_drivers(driver).items():
            series[name] = _read(lambda c, pt=pt: point_series(c, site, pt, lo, hi, "day",
                                                               as_energy=False))  # fmt: skip
    common = sorted(set.intersection(*(set(s) for s in series.values())))
    if not common:
        raise InputError("no day has both energy and every driver", field="point")
    energy = np.array([series["energy"][d] for d in common])
    drivers = {n: np.array([s[d] for d in common]) for n, s in series.items() if n != "energy"}
    return common, energy, drivers


def _print_analysis(out: dict[str, Any]) -> None:
    b = out["baseline"]
    table = Table("项 / item", "值 / value", title="基线 / baseline")
    for name, value in b["coefficients"].items():
        table.add_row(f"β {name}", f"{value:.4g} (t = {b['t_stats'][name]:.2f})")
    for key in ("n", "r2", "adj_r2", "cv_rmse_pct", "nmbe_pct", "rho_lag1"):
        table.add_row(key, f"{b[key]:.4g}")
    console.print(table)
    checks = Table(
        "检查 / check", "值 / value", "限值 / limit", "通过 / pass", title="判据 / criteria"
    )
    for c in out["checks"]:
        checks.add_row(c["name"], f"{c['value']:.4g}", c["limit"], "✓" if c["passed"] else "✗")
    console.print(checks)
    deg = out["cusum"]["degradation"]
    if deg:
        console.print(
            f"劣化 / degradation: 始于 / began {deg['start']}, "
            f"发现于 / detected {deg['detected']}, {deg['shift_fraction']:+.1%}"
        )
    else:
        console.print("未发现持续劣化 / no sustained degradation")
    if "savings" in out:
        s = out["savings"]
        lo, hi = s["fraction_interval"]
        console.print(
            f"节能量 / avoided energy: {s['avoided']:.1f} ({s['fraction']:.1%}; "
            f"{s['confidence']:.0%} 区间 / interval {lo:.1%} … {hi:.1%})"
        )
        if not s["verifiable"]:
            console.print(
                f"{s['verification']['message']}: 未核证 / not verified — "
                + "; ".join(
                    f"{f['criterion']} {f['value']:.4g} (限值 / limit {f['limit']})"
                    for f in s["failing"]
                ),
                style="bold red",
                markup=False,
            )


# --- tansuan forecast -------------------------------------------------------------------


def forecast(
    site: str | None = typer.Option(None, "--site", help="site id (store mode)"),
    point: str | None = typer.Option(None, "--point", help="energy or amount point (store mode)"),
    start: str | None = typer.Option(None, "--from", help="first day YYYY-MM-DD (store mode)"),
    end: str | None = typer.Option(None, "--to", help="day after the last YYYY-MM-DD (store mode)"),
    csv_file: Path | None = typer.Option(None, "--csv", help="monthly CSV: month,value"),
    horizon: int = typer.Option(12, "--horizon", help="months to forecast"),
    level: float = typer.Option(0.9, "--level", help="prediction-interval level"),
    factor: float | None = typer.Option(
        None, "--factor-t-per-mwh", help="also forecast tCO2 [t/MWh]"
    ),
    emissions: bool = typer.Option(
        False, "--emissions", help="forecast the site's accounted tCO2e"
    ),
    scope: str | None = typer.Option(
        None,
        "--scope",
        help="with --emissions: only this scope (1, 2-location, 2-market, 3); default: the "
        "total, market-based Scope 2 left out (it is reported beside, never added)",
    ),
    calendar: str | None = typer.Option(
        None,
        "--calendar",
        help="shift calendar, e.g. 'mon-sat=07-24;closed=02-01..02-10' "
        "(default: TANSUAN_SHIFT_CALENDAR)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Monthly forecast with back-test and intervals / 月度能耗与排放预测.

    The models (seasonal naive, seasonal regression, and a regression on the working days
    of the shift calendar) are back-tested by rolling origin; the one with the lowest MAE
    makes the forecast. --emissions forecasts the monthly tCO2e of the site's accounting
    results (``tansuan account``) instead of a point.
    """
    import numpy as np

    from tansuan.analytics.findings import ShiftCalendar
    from tansuan.settings import get_settings
    from tansuan.views.energy import point_series
    from tansuan.views.forecast import (
        LOCATION_BASED,
        emission_history,
        plan_drivers,
        series_forecast,
    )

    try:
        if not 1 <= horizon <= 36:
            raise InputError("horizon must be 1..36 months", field="horizon")
        plan = None
        if csv_file is not None:
            months, columns = _csv_table(csv_file, "month")
            if "value" not in columns:
                raise InputError(f"{csv_file}: needs a 'value' column", field="csv")
            values = columns["value"]
        elif emissions and site and start and end:
            lo, hi = _date(start, "from"), _date(end, "to")
            assert lo is not None and hi is not None
            last = hi - dt.timedelta(days=1)
            with console.status("读取核算结果 / reading accounting results …"):
                first, final = f"{lo:%Y-%m}", f"{last:%Y-%m}"
                chosen = scope or LOCATION_BASED
                by_month = _read(lambda c: emission_history(c, site, first, final, scope=chosen))
            months = list(by_month)
            values = np.array(list(by_month.values()))

            def plan(history: list[str], future: list[str]) -> Any:
                return _site_read(site, lambda c, m: plan_drivers(c, m, history, future))

        elif site and point and start and end:
            lo, hi = _date(start, "from"), _date(end, "to")
            assert lo is not None and hi is not None
            with console.status("读取数据 / reading the store …"):
                by_month = _read(lambda c: point_series(c, site, point, lo, hi, "month",
                                                        as_energy=True))  # fmt: skip
            months = sorted(by_month)
            values = np.array([by_month[m] for m in months])
        else:
            raise InputError("give --csv FILE, or --site, --point, --from and --to", field="site")
        cal = ShiftCalendar.from_text(calendar or get_settings().shift_calendar)
        done, out = series_forecast(months, values, horizon, level=level,
                                    working_days=cal.working_days, plan=plan,
                                    factor_t_per_mwh=factor)  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    winner, tests = done.model, done.backtest
    if as_json:
        _emit(out)
        return
    bt = Table(
        "模型 / model",
        "窗口 / windows",
        "MAE",
        "MASE",
        "覆盖率 / coverage",
        title="回测 / back-test",
    )
    for t in tests:
        bt.add_row(t.model, str(t.windows), f"{t.mae:.4g}", f"{t.mase:.3f}", f"{t.coverage:.0%}")
    console.print(bt)
    table = Table("月份 / month", "预测 / forecast", f"{level:.0%} 下限 / lower", "上限 / upper",
                  title=f"预测 / forecast ({winner})")  # fmt: skip
    for row in out["forecast"]:
        table.add_row(
            row["month"], f"{row['mean']:.4g}", f"{row['lower']:.4g}", f"{row['upper']:.4g}"
        )
    console.print(table)
