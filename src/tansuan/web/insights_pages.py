"""Dashboard pages of the analytics: findings, savings, forecast, allowance
position, and the alerts banner (``/ui/alerts``, loaded by HTMX on the overview and on
these pages).

Each page calls the same function as its API route (:mod:`tansuan.web.routes.insights`)
through the caller's scope; a refused or impossible request shows its message on the page
(with the matching status code) instead of the figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tansuan import clock
from tansuan.errors import InputError, NotFound, PermissionDenied, TansuanError
from tansuan.store import alert_events
from tansuan.twin import demo as twin_demo
from tansuan.web.deps import IdPath, ledger_of
from tansuan.web.pages import _check_csrf, _scope, _who, render
from tansuan.web.routes import allowance
from tansuan.web.routes import insights as api

router = APIRouter(include_in_schema=False)


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"“{text}”不是数字 / {text!r} is not a number", field=field) from None


def _page(
    request: Request, template: str, site: str,
    compute: Callable[[Any, str], dict[str, Any] | None], **context: Any,
) -> Response:  # fmt: skip
    """Render ``template`` with ``data = compute(scope, site)`` or the error it raised."""
    principal = _who(request)
    scope = _scope(request, principal)
    with request.app.state.store.read() as conn:
        sites = scope.sites(conn)
    site = site or (sites[0]["site"] if sites else "")
    data, error, status = None, None, 200
    if site:
        try:
            data = compute(scope, site)
        except TansuanError as exc:
            error = exc.message
            status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 400  # fmt: skip  # noqa: E501
    return render(request, template, principal, status=status, site=site, sites=sites,
                  data=data, error=error, **context)  # fmt: skip


#: Findings per page of the findings page.
FINDINGS_PER_PAGE = 25


def findings_view(records: list[dict[str, Any]], kind: str, page: int) -> dict[str, Any]:
    """The findings page's layout of the ranked records: the totals over all of them, one
    group per kind (count and yearly figures, by yearly cost), and the page ``page`` of the
    chosen ``kind`` (all kinds when empty) as ``(rank, record)`` pairs, rank 0-based."""
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        group = groups.setdefault(
            record["kind"],
            {
                "kind": record["kind"],
                "count": 0,
                "annual_kwh": 0.0,
                "annual_tco2e": 0.0,
                "annual_cost": 0.0,
            },
        )
        group["count"] += 1
        for key in ("annual_kwh", "annual_tco2e", "annual_cost"):
            group[key] += float(record[key])
    chosen = [(i, r) for i, r in enumerate(records) if not kind or r["kind"] == kind]
    pages = max(1, -(-len(chosen) // FINDINGS_PER_PAGE))
    page = min(max(page, 1), pages)
    return {
        "total": {key: sum(g[key] for g in groups.values())
                  for key in ("count", "annual_kwh", "annual_tco2e", "annual_cost")},
        "groups": sorted(groups.values(), key=lambda g: -g["annual_cost"]),
        "rows": chosen[(page - 1) * FINDINGS_PER_PAGE : page * FINDINGS_PER_PAGE],
        "page": page,
        "pages": pages,
        "matching": len(chosen),
    }  # fmt: skip


@router.get("/insights/findings", response_class=HTMLResponse)
def findings_page(
    request: Request, site: str = "", start: str = "", end: str = "", tariff: str = "",
    factor: str = "", calendar: str = "", show: int = 0, kind: str = "", page: int = 1,
) -> Response:  # fmt: skip
    store = request.app.state.store
    settings = request.app.state.settings

    def compute(scope: Any, s: str) -> dict[str, Any]:
        data = api.findings_data(request, store, scope, s, start or None, end or None,
                                 calendar or None, _number(tariff, "tariff"),
                                 _number(factor, "factor"), None,
                                 evidence_of=max(show, 0))  # fmt: skip
        return data | {"view": findings_view(data["findings"], kind, page)}

    return _page(request, "insights_findings.html", site, compute, start=start, end=end,
                 tariff=tariff or (settings.energy_tariff or ""),
                 factor=factor or (settings.findings_factor_t_per_mwh or ""),
                 calendar=calendar or settings.shift_calendar, show=max(show, 0), kind=kind,
                 page=page)  # fmt: skip


@router.get("/insights/enpi", response_class=HTMLResponse)
def enpi_page(
    request: Request, site: str = "", start: str = "", end: str = "", baseline_end: str = ""
) -> Response:
    store = request.app.state.store

    def compute(scope: Any, s: str) -> dict[str, Any]:
        return api.enpi_data(request, store, scope, s, start or None, end or None,
                             baseline_end or None)  # fmt: skip

    return _page(request, "insights_enpi.html", site, compute, start=start, end=end,
                 baseline_end=baseline_end)  # fmt: skip


@router.get("/insights/savings", response_class=HTMLResponse)
def savings_page(
    request: Request, site: str = "", node: str = "", intervention: str = "", start: str = "",
    end: str = "", option: str = "B",
) -> Response:  # fmt: skip
    """Verified savings; without a date, the site's known interventions (the twin's
    recorded ones) are listed and the newest is opened."""
    store = request.app.state.store
    data_dir = request.app.state.settings.data_dir
    chosen = {"node": node, "intervention": intervention}

    def compute(scope: Any, s: str) -> dict[str, Any] | None:
        known = twin_demo.interventions(data_dir, s)
        chosen["known"] = known  # type: ignore[assignment]
        if not intervention:
            if not known:
                return None
            chosen["node"], chosen["intervention"] = known[0]["node"], known[0]["day"]
        return api.savings_data(request, store, scope, s, chosen["node"],
                                chosen["intervention"], start or None, end or None, option,
                                0.9, None)  # fmt: skip

    return _page(request, "insights_savings.html", site, compute, chosen=chosen, start=start,
                 end=end, option=option)  # fmt: skip


@router.get("/insights/forecast", response_class=HTMLResponse)
def forecast_page(request: Request, site: str = "", year: str = "") -> Response:
    store = request.app.state.store

    def compute(scope: Any, s: str) -> dict[str, Any]:
        y = _year(year)
        try:
            return api.forecast_data(request, store, scope, s, y, 0.9)
        except InputError as exc:
            if year.strip():  # the year asked for: the form's error
                raise
            # the page as opened from the navigation: why there is no forecast yet (200)
            return {"unavailable": exc.message}

    return _page(request, "insights_forecast.html", site, compute,
                 year=_year_or_text(year))  # fmt: skip


@router.get("/insights/position", response_class=HTMLResponse)
def position_page(request: Request, site: str = "", year: str = "") -> Response:
    """The allowance position; a site without an account for the year gets a page that
    explains the account and offers its import (200), not a 404."""
    store = request.app.state.store

    def compute(scope: Any, s: str) -> dict[str, Any]:
        y = _year(year)
        try:
            data = api.position_data(request, store, scope, s, y, None)
        except NotFound:
            api.open_site(request, store, scope, s)  # the site is visible: no account
            return {"no_account": True, "year": y}
        try:  # the trades: the site's own organisation only
            data["account"] = allowance.account_data(store, scope, s, y)
        except TansuanError:
            data["account"] = None
        return data

    return _page(request, "insights_position.html", site, compute,
                 year=_year_or_text(year))  # fmt: skip


def _year(text: str) -> int:
    """A year field of a page form (empty: this year), or an :class:`InputError`."""
    if not text.strip():
        return clock.today().year
    try:
        year = int(text)
    except ValueError:
        raise InputError(f"年份须为整数，如 2025 / the year must be a whole number such as "
                         f"2025, not {text!r}", field="year") from None  # fmt: skip
    if not 2000 <= year <= 2100:
        raise InputError(f"年份须在 2000 到 2100 之间 / the year must be between 2000 and "
                         f"2100 (got {year})", field="year")  # fmt: skip
    return year


def _year_or_text(text: str) -> int | str:
    try:
        return _year(text)
    except InputError:
        return text


@router.post("/insights/position/trade", response_class=HTMLResponse)
def add_trade_page(
    request: Request, site: str = Form(...), year: int = Form(...), csrf: str = Form(""),
    date: str = Form(""), side: str = Form(""), instrument: str = Form(""),
    quantity: str = Form(""), price: str = Form(""), note: str = Form(""),
) -> Response:  # fmt: skip
    """The trade form of the position page (administrators and energy managers of the
    site's organisation); back to the page, or the page with the error."""

    def change(scope: Any) -> None:
        body = {"date": date, "side": side, "instrument": instrument,
                "quantity": _number(quantity, "quantity"), "price": _number(price, "price"),
                "note": note}  # fmt: skip
        allowance.add_trade(request.app.state.store, ledger_of(request.app), scope, site, year,
                            body)  # fmt: skip

    return _account_change(request, csrf, site, year, change)


@router.post("/insights/position/trade/{trade_id}/cancel", response_class=HTMLResponse)
def cancel_trade_page(
    request: Request, trade_id: IdPath, site: str = Form(...), year: int = Form(...),
    csrf: str = Form(""),
) -> Response:  # fmt: skip
    """The cancel button of a trade on the position page."""

    def change(scope: Any) -> None:
        allowance.cancel(request.app.state.store, ledger_of(request.app), scope, site, trade_id)

    return _account_change(request, csrf, site, year, change)


@router.post("/insights/position/values", response_class=HTMLResponse)
def set_values_page(
    request: Request, site: str = Form(...), year: int = Form(...), csrf: str = Form(""),
    allocation: str = Form(""), verified: str = Form(""), banked: str = Form(""),
) -> Response:  # fmt: skip
    """The entered-values form of the position page (empty fields are left as they are)."""

    def change(scope: Any) -> None:
        body = allowance.ValuesBody(allocation=_number(allocation, "allocation"),
                                    verified=_number(verified, "verified"),
                                    banked=_number(banked, "banked"))  # fmt: skip
        allowance.set_values(request.app.state.store, ledger_of(request.app), scope, site,
                             year, body)  # fmt: skip

    return _account_change(request, csrf, site, year, change)


def _account_change(
    request: Request, csrf: str, site: str, year: int, change: Callable[[Any], None]
) -> Response:
    """Run a change of the account as the caller; back to the position page, or the page
    with the error (and the right status)."""
    _check_csrf(request, csrf)
    principal = _who(request)
    scope = _scope(request, principal)
    store = request.app.state.store
    try:
        change(scope)
    except TansuanError as exc:
        with store.read() as conn:
            sites = scope.sites(conn)
        status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 400  # fmt: skip  # noqa: E501
        return render(request, "insights_position.html", principal, status=status, site=site,
                      sites=sites, data=None, error=exc.message, year=year)  # fmt: skip
    return RedirectResponse(f"/insights/position?site={site}&year={year}", status_code=303)


@router.get("/ui/alerts", response_class=HTMLResponse)
def alerts_banner(request: Request, site: str = "", year: int = 0) -> Response:
    """The alerts of one site (or of every own and shared site) as a banner fragment: the
    alerts job's stored ones (with their delivery) when the server runs it, else
    evaluated now."""
    principal = _who(request)
    scope = _scope(request, principal)
    store = request.app.state.store
    year = year or clock.today().year
    job = getattr(request.app.state, "alerts_job", None)
    with store.read() as conn:
        sites = [site] if site else [s["site"] for s in scope.sites(conn)]
    found: list[dict[str, Any]] = []
    for s in sites:
        try:
            if job is not None:
                found += stored_alerts(request, store, scope, s)
            else:
                found += api.alerts_data(request, store, scope, s, year)["alerts"]
        except TansuanError:
            continue  # a site the caller may not analyse raises no banner
    last = job["last"] if job is not None else None
    return render(request, "_alerts.html", principal, alerts=found, job=job,
                  last_round=None if last is None else last.started)  # fmt: skip


def stored_alerts(request: Request, store: Any, scope: Any, site: str) -> list[dict[str, Any]]:
    """The open alerts the alerts job stored for a site the caller may analyse; delivery
    details (sent, errors) only for the site's own organisation."""
    opened = api.open_site(request, store, scope, site)
    with store.read() as conn:
        rows = alert_events.open_events(conn, opened.model.organisation.id, site)
    out = []
    for r in rows:
        item = {k: r[k] for k in ("site_key", "kind", "severity", "metric", "value", "unit",
                                  "zh", "en")}  # fmt: skip
        item["raised_at"] = dt.datetime.fromtimestamp(r["raised_at_us"] / 1e6, dt.UTC)
        if opened.access.own:
            item["sent"] = r["sent_at_us"] is not None
            item["last_error"] = r["last_error"]
        out.append(item)
    return out


@router.post("/insights/position/upload", response_class=HTMLResponse)
async def upload_holdings_page(
    request: Request, site: str = Form(...), csrf: str = Form(""), file: UploadFile = File(...)
) -> Response:
    """The holdings upload form of the position page (administrators of the own
    organisation); back to the position of the file's year, or the page with the error."""
    _check_csrf(request, csrf)
    principal = _who(request)
    scope = _scope(request, principal)
    data = await file.read(api.MAX_HOLDINGS_BYTES + 1)
    store = request.app.state.store
    try:
        saved = await run_in_threadpool(api.save_holdings, request, store, scope, site,
                                        file.filename or "upload", data)  # fmt: skip
    except TansuanError as exc:
        with store.read() as conn:
            sites = scope.sites(conn)
        status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 400  # fmt: skip  # noqa: E501
        return render(request, "insights_position.html", principal, status=status, site=site,
                      sites=sites, data=None, error=exc.message,
                      year=clock.today().year)  # fmt: skip
    return RedirectResponse(f"/insights/position?site={site}&year={saved['year']}", status_code=303)
