"""CLI ``tansuan position``: an entity's allowance position from its compliance file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import typer
from rich.table import Table

from tansuan.errors import InputError, TansuanError


def position(
    holdings_file: Path = typer.Option(..., "--holdings", help="compliance YAML of the entity"),
    emissions: float | None = typer.Option(None, "--emissions", help="forecast emissions [tCO2]"),
    sd: float | None = typer.Option(None, "--sd", help="standard deviation of the forecast [tCO2]"),
    price: float | None = typer.Option(
        None, "--price", help="allowance price [money/t] (overrides)"
    ),
    site: str | None = typer.Option(
        None, "--site", help="forecast the year from this site's results"
    ),
    scope: str | None = typer.Option(None, "--scope", help="with --site: only this scope"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Allowance position: forecast emissions vs holdings / 配额盈缺与履约风险.

    Emissions come from --emissions/--sd, else from --site (the months accounted so far plus
    the forecast of the rest of the year), else from `emissions:` in the file.
    """
    from tansuan.analytics.commands import emission_months
    from tansuan.analytics.forecast import year_outlook
    from tansuan.cli import console, fail
    from tansuan.market.holdings import load_account
    from tansuan.market.position import position as compute

    outlook = None
    try:
        account = load_account(holdings_file)
        doc = account.file
        if emissions is None and site is not None:
            with console.status("预测排放 / forecasting emissions …"):
                history = emission_months(site, f"{doc.year - 4}-01", f"{doc.year}-12", scope)
                outlook = year_outlook(list(history), np.array(list(history.values())), doc.year)
            emissions = outlook.mean
            sd = outlook.sd if sd is None else sd
        mean = (
            emissions if emissions is not None else (doc.emissions.mean if doc.emissions else None)
        )
        if mean is None:
            raise InputError(
                "no emissions: give --emissions or `emissions:` in the file", field="emissions"
            )
        spread = sd if sd is not None else (doc.emissions.sd if doc.emissions else 0.0)
        result = compute(
            mean,
            spread,
            account.holdings,
            account.rules,
            price=doc.price if price is None else price,
            gas=doc.gas,
        )
    except TansuanError as error:
        fail(error, code=1)
    out = {
        "entity": doc.entity,
        "year": doc.year,
        "allocation": [
            {"unit": a.unit, "total_t": a.total_t, "factors": a.factors, "confidence": a.confidence}
            for a in account.allocations
        ],
        "free_allocation": account.free_allocation,
        "rules": account.rules.__dict__,
        "trade_cash": account.cash,
        "position": result.__dict__,
        "outlook": None if outlook is None else outlook.__dict__ | {"mean": outlook.mean},
    }
    if as_json:
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(
        "项 / item", "值 / value", title=f"{doc.entity} {doc.year} 履约头寸 / compliance position"
    )
    rows = [
        (
            "预测排放 / forecast emissions t",
            f"{result.emissions:,.0f} ± {result.emissions_sd:,.0f}",
        ),
        ("清缴义务 / obligation t", f"{result.obligation:,.0f}"),
        ("免费配额 / free allocation t", f"{account.free_allocation:,.0f}"),
        ("持有 CEA / CEA held t", f"{result.cea:,.0f}"),
        ("可用 CCER / CCER usable t", f"{result.ccer_usable:,.0f}"),
        ("缺口 / shortfall t", f"{result.shortfall:,.0f}"),
        ("盈余 / surplus t", f"{result.surplus:,.0f}"),
        ("缺口价值 / shortfall value", f"{result.shortfall_value:,.0f}"),
        ("缺口概率 / P(shortfall)", f"{result.shortfall_probability:.1%}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
