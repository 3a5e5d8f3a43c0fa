"""``GET /api/v1/findings``, ``/savings``, ``/forecast``, ``/position``, ``/alerts``: the
analytics of a site, computed on request from the store.

Tenancy as everywhere: the caller's own organisation, or a share grant on the site whose
classes include ``monthly`` and whose window covers every day the answer is computed
from (findings: the window; savings: the baseline and reporting days; forecast, position
and alerts: January four years back to the end of the year). A read under a grant is
logged in the audit table and the ledger.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, Request, UploadFile

from tansuan import clock
from tansuan.analytics.findings import ShiftCalendar
from tansuan.analytics.reference import grid_factor
from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.market import accounts
from tansuan.market.holdings import parse_yaml
from tansuan.settings import Settings
from tansuan.store import scoped
from tansuan.store.scoped import Access, Scope
from tansuan.store.timeutil import to_us
from tansuan.views.alerts import site_alerts
from tansuan.views.enpi import enpi_report
from tansuan.views.findings import findings_report, pick_valuation
from tansuan.views.forecast import site_forecast
from tansuan.views.position import site_position
from tansuan.views.savings import node_days, savings_report
from tansuan.web.deps import ScopeDep, StoreDep, ledger_of
from tansuan.web.responses import JSONBytes
from tansuan.web.schemas import (
    AlertsOut,
    EnpiOut,
    FindingsOut,
    ForecastOut,
    HoldingsSaved,
    PositionOut,
    SavingsOut,
)

router = APIRouter(prefix="/api/v1", tags=["insights / 分析"])

#: The data class these answers count as (per-month figures of a site).
DATA_CLASS = "monthly"
#: Days before a findings window that make each device's degradation baseline.
BASELINE_DAYS = 56
#: Largest holdings file accepted by the upload [bytes].
MAX_HOLDINGS_BYTES = 1_000_000


class Opened:
    """A site the caller may analyse: its model, time zone and the access that opened it."""

    def __init__(self, model: Any, site_model: Any, access: Access) -> None:
        self.model, self.site, self.access = model, site_model, access
        self.zone = ZoneInfo(site_model.timezone)

    @property
    def fine(self) -> bool:
        """May the caller see hourly / daily series (own data, or a grant that also opens
        ``hourly`` or ``raw``)? The evidence and savings charts need it; the figures
        themselves are ``monthly``."""
        grant = self.access.grant
        return grant is None or bool({"hourly", "raw"} & set(grant.classes))

    def check_window(self, start: dt.date, end: dt.date) -> None:
        """Refuse a grant read outside the grant's window ([start, end) local days)."""
        grant = self.access.grant
        if grant is None:
            return
        lo = to_us(dt.datetime.combine(start, dt.time(), self.zone))
        hi = to_us(dt.datetime.combine(end, dt.time(), self.zone))
        if lo < grant.window_from_us or hi > grant.window_to_us:
            raise PermissionDenied("请求的期间不在授权范围内 / the period is outside the grant")


def open_site(request: Request, store: Any, scope: Scope, site: str, node: str = "") -> Opened:
    """Check the caller may read ``monthly`` data of ``site`` (at ``node`` when given)."""
    scope.require("read")
    with store.read() as conn:
        org, site_key, path = scoped.locate(conn, scope, node or site)
        if site_key is None or site_key != site:
            if node and site_key is not None:
                raise NotFound(f"站点中没有该节点 / no node {node!r} in site {site!r}")
            raise PermissionDenied("按站点分析 / analytics are per site: give a site id")
        access = scope.access(conn, site_key, path, DATA_CLASS)
    model = request.app.state.accountants.of(org).model
    try:
        site_model = model.site(site_key)
    except Exception as exc:  # the stored model no longer has it
        raise NotFound(f"没有该站点 / no site {site!r} in the loaded site model") from exc
    return Opened(model, site_model, access)


def log_read(store: Any, scope: Scope, opened: Opened, what: str) -> None:
    if opened.access.grant is not None:
        with store.write() as conn:
            scope.log(conn, opened.access, what, DATA_CLASS)


def _date(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"日期格式错误 / {text!r} is not a date (YYYY-MM-DD)", field=field
        ) from None


def _calendar(text: str) -> ShiftCalendar:
    return ShiftCalendar.from_text(text)


def findings_data(
    request: Request, store: Any, scope: Scope, site: str, start: str | None, end: str | None,
    calendar: str | None, tariff: float | None, factor: float | None,
    carbon_price: float | None, evidence: bool = True, evidence_of: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The findings answer (shared by the API and the dashboard page; the page asks for
    the evidence of the one finding it charts, ``evidence_of``)."""
    settings: Settings = request.app.state.settings
    opened = open_site(request, store, scope, site)
    today = clock.today(opened.zone)
    hi = _date(end, "to") or today + dt.timedelta(days=1)
    lo = _date(start, "from") or hi - dt.timedelta(days=30)
    if not lo < hi or (hi - lo).days > 400:
        raise InputError(
            "时间窗须为 1–400 天 / the window must be 1 to 400 days, 'from' before 'to'",
            field="from",
        )
    opened.check_window(lo, hi)
    cal = _calendar(calendar or settings.shift_calendar)
    value, factor_source = pick_valuation(settings, tariff, factor, carbon_price, lo)
    baseline = BASELINE_DAYS
    if opened.access.grant is not None:  # the degradation baseline stays inside the grant
        first = dt.datetime.fromtimestamp(opened.access.grant.window_from_us / 1e6, opened.zone)
        baseline = max(0, min(baseline, (lo - first.date()).days))
    with store.read() as conn:
        # Flagged hours and evidence are hourly data: not opened by a monthly grant.
        records = findings_report(conn, opened.site, lo, hi, cal, value, baseline_days=baseline,
                                  evidence=evidence, fine=opened.fine,
                                  evidence_of=evidence_of)  # fmt: skip
    log_read(store, scope, opened, f"findings {site} {lo}..{hi}")
    return {
        "site": site,
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "calendar": calendar or settings.shift_calendar,
        "valuation": value.__dict__,
        "factor_source": factor_source,
        "findings": records,
        "evidence_withheld": evidence and not opened.fine,
    }  # fmt: skip


@router.get("/findings", summary="Wasteful devices ranked by yearly cost / 低效设备排名",
            response_class=JSONBytes, response_model=FindingsOut)  # fmt: skip
def findings(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    start: Annotated[
        str | None, Query(alias="from", description="first day (default: 30 days back)")
    ] = None,  # noqa: E501
    end: Annotated[
        str | None, Query(alias="to", description="day after the last (default: tomorrow)")
    ] = None,  # noqa: E501
    calendar: Annotated[
        str | None, Query(description="shift hours, e.g. mon-fri=08-18;sat=08-12")
    ] = None,  # noqa: E501
    tariff: Annotated[float | None, Query(ge=0, description="energy tariff [money/kWh]")] = None,
    factor: Annotated[float | None, Query(ge=0, description="emission factor [tCO2/MWh]")] = None,
    carbon_price: Annotated[float | None, Query(ge=0, description="[money/tCO2]")] = None,
    evidence: Annotated[bool, Query(description="include each finding's hourly series")] = True,
) -> JSONBytes:
    """Off-shift running, idling and peer outliers of the site's devices over the window,
    each valued per year (kWh, tCO2e, money) and with its evidence series: the device's
    hourly kWh and which hours the finding flags (withheld under a grant that does not
    also open ``hourly`` data: ``evidence_withheld``)."""
    return JSONBytes(findings_data(request, store, scope, site, start, end, calendar, tariff,
                                   factor, carbon_price, evidence))  # fmt: skip


def savings_data(
    request: Request, store: Any, scope: Scope, site: str, node: str, intervention: str,
    start: str | None, end: str | None, option: str, confidence: float, factor: float | None,
) -> dict[str, Any]:  # fmt: skip
    settings: Settings = request.app.state.settings
    opened = open_site(request, store, scope, site, node if node != site else "")
    day = _date(intervention, "intervention")
    assert day is not None
    today = clock.today(opened.zone)
    lo = _date(start, "from") or day - dt.timedelta(days=90)
    hi = _date(end, "to") or min(today + dt.timedelta(days=1), day + dt.timedelta(days=365))
    if not lo < day < hi:
        raise InputError(
            "改造日期须在起止日之间 / the intervention must fall between 'from' and 'to'",
            field="intervention",
        )
    opened.check_window(lo, hi)
    with store.read() as conn:
        days = node_days(conn, opened.site, node or site, lo, hi)
    factor, factor_source = grid_factor(settings.findings_factor_t_per_mwh, factor, day)
    out = savings_report(days, day, option=option, confidence=confidence,
                         factor_t_per_mwh=factor)  # fmt: skip
    out["factor_source"] = factor_source
    log_read(store, scope, opened, f"savings {site} {node} {intervention}")
    if not opened.fine:  # the daily series is finer than a monthly grant opens
        out["chart"] = None
    return {"site": site, "node": node or site, "from": lo.isoformat(), "to": hi.isoformat()} | out


@router.get("/savings", summary="Verified savings after an intervention / 节能量核证",
            response_class=JSONBytes, response_model=SavingsOut)  # fmt: skip
def savings(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    intervention: Annotated[str, Query(description="day of the intervention YYYY-MM-DD")],
    node: Annotated[str, Query(description="line, area or device (default: the site)")] = "",
    start: Annotated[str | None, Query(alias="from", description="first baseline day")] = None,
    end: Annotated[str | None, Query(alias="to", description="day after the last")] = None,
    option: Annotated[Literal["B", "C"], Query(description="IPMVP option")] = "B",
    confidence: Annotated[float, Query(gt=0.5, lt=1)] = 0.9,
    factor: Annotated[float | None, Query(ge=0, description="[tCO2/MWh] for avoided tCO2")] = None,
) -> JSONBytes:
    """IPMVP Option B/C avoided energy of the node's energy meters after the intervention
    against a daily baseline fitted before it, with the ASHRAE G14 interval; avoided
    emissions at ``factor`` (else TANSUAN_FINDINGS_FACTOR_T_PER_MWH, else the shipped
    national grid factor)."""
    return JSONBytes(savings_data(request, store, scope, site, node, intervention, start, end,
                                  option, confidence, factor))  # fmt: skip


def enpi_data(
    request: Request, store: Any, scope: Scope, site: str, start: str | None, end: str | None,
    baseline_end: str | None,
) -> dict[str, Any]:  # fmt: skip
    """EnPIs of the site and its lines (shared by the API and the dashboard page)."""
    opened = open_site(request, store, scope, site)
    today = clock.today(opened.zone)
    hi = _date(end, "to") or today  # today is not over: its energy is partial
    lo = _date(start, "from") or hi - dt.timedelta(days=180)
    if not lo < hi or (hi - lo).days > 800:
        raise InputError(
            "时间窗须为 1–800 天 / the window must be 1 to 800 days, 'from' before 'to'",
            field="from",
        )
    cut = _date(baseline_end, "baseline_end") or lo + (hi - lo) / 2
    opened.check_window(lo, hi)
    calendar = _calendar(request.app.state.settings.shift_calendar)
    with store.read() as conn:
        out = enpi_report(conn, opened.site, lo, hi, cut, calendar)
    log_read(store, scope, opened, f"enpi {site} {lo}..{hi}")
    return out


@router.get("/enpi", summary="Energy performance indicators per line and site / 能效指标",
            response_class=JSONBytes, response_model=EnpiOut)  # fmt: skip
def enpi_route(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    start: Annotated[
        str | None, Query(alias="from", description="first day (default: 180 days back)")
    ] = None,
    end: Annotated[str | None, Query(alias="to", description="day after the last (today)")] = None,
    baseline_end: Annotated[
        str | None, Query(description="first reporting day (default: the window's middle)")
    ] = None,
) -> JSONBytes:
    """Monthly energy [kWh], specific consumption [kWh per unit of output] where the output
    is known, and the normalised EnPI (reporting energy / what the day-type baseline fitted
    before ``baseline_end`` expects) of the site and of each line (ISO 50006)."""
    return JSONBytes(enpi_data(request, store, scope, site, start, end, baseline_end))


def forecast_data(
    request: Request, store: Any, scope: Scope, site: str, year: int | None, level: float
) -> dict[str, Any]:
    """The emissions forecast (shared by the API and the dashboard page)."""
    opened = open_site(request, store, scope, site)
    year = year or clock.now(opened.zone).year
    opened.check_window(dt.date(year - 4, 1, 1), dt.date(year + 1, 1, 1))
    calendar = _calendar(request.app.state.settings.shift_calendar)
    with store.read() as conn:
        # The plan runs past a grant's window: only the site's own users get it.
        out = site_forecast(conn, opened.site, year, level=level,
                            working_days=calendar.working_days,
                            with_plan=opened.access.grant is None)  # fmt: skip
    log_read(store, scope, opened, f"forecast {site} {year}")
    return out


@router.get("/forecast", summary="Monthly emissions forecast / 月度排放预测",
            response_class=JSONBytes, response_model=ForecastOut)  # fmt: skip
def forecast(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    level: Annotated[float, Query(gt=0.5, lt=1, description="prediction-interval level")] = 0.9,
) -> JSONBytes:
    """Monthly tCO2e (location-based) from the month after the last accounted one through
    December of next year, with prediction intervals, by the model (seasonal naive or
    seasonal regression) with the lower rolling-origin back-test MAE; the back-test errors
    (MAE, MASE, interval coverage) of both models are given."""
    return JSONBytes(forecast_data(request, store, scope, site, year, level))


def position_data(
    request: Request, store: Any, scope: Scope, site: str, year: int | None, price: float | None
) -> dict[str, Any]:
    """The allowance position (shared by the API and the dashboard page)."""
    opened = open_site(request, store, scope, site)
    year = year or clock.now(opened.zone).year
    opened.check_window(dt.date(year - 4, 1, 1), dt.date(year + 1, 1, 1))
    calendar = _calendar(request.app.state.settings.shift_calendar)
    with store.read() as conn:
        stored, out = site_position(conn, opened.model.organisation.id, opened.site, year,
                                    price=price, working_days=calendar.working_days)  # fmt: skip
    log_read(store, scope, opened, f"position {site} {year}")
    return {"site": site, "version": stored.row["version"]} | out


@router.get("/position", summary="Allowance position / 配额盈缺", response_class=JSONBytes,
            response_model=PositionOut)  # fmt: skip
def position(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    price: Annotated[
        float | None, Query(ge=0, description="[money/t] (overrides the file)")
    ] = None,  # noqa: E501
) -> JSONBytes:
    """Emissions of the year (verified, else forecast) vs the holdings of the site's
    allowance account (``/allowance``): obligation, shortfall or surplus, the shortfall's
    value and its probability."""
    return JSONBytes(position_data(request, store, scope, site, year, price))


def alerts_data(
    request: Request, store: Any, scope: Scope, site: str, year: int | None
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    opened = open_site(request, store, scope, site)
    year = year or clock.now(opened.zone).year
    opened.check_window(dt.date(year - 4, 1, 1), dt.date(year + 1, 1, 1))
    out = site_alerts(store, opened.model, site, year, settings)
    log_read(store, scope, opened, f"alerts {site} {year}")
    return out | {"alerts": [a.__dict__ | {"text": a.text} for a in out["alerts"]]}


@router.get("/alerts", summary="Alerts of a site / 告警", response_class=JSONBytes,
            response_model=AlertsOut)  # fmt: skip
def alerts(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> JSONBytes:
    """Energy-budget, allowance and threshold alerts of the site for the year, evaluated
    now (nothing is sent from here: delivery is the server's ``alerts`` job or
    ``tansuan alerts --send``)."""
    return JSONBytes(alerts_data(request, store, scope, site, year))


@router.post("/position/holdings", summary="Upload a site's holdings file / 上传配额持有文件",
             response_class=JSONBytes, response_model=HoldingsSaved,
             status_code=201)  # fmt: skip
async def upload_holdings(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    file: Annotated[UploadFile, File(description="compliance YAML (`tansuan position` format)")],
) -> JSONBytes:
    """Check the file and import it as the site's allowance account for the file's year
    (a new version, trades added or cancelled to match; nothing changes when the file is
    refused). Administrators of the site's own organisation only."""
    data = await file.read(MAX_HOLDINGS_BYTES + 1)
    return JSONBytes(save_holdings(request, store, scope, site, file.filename or "upload", data),
                     status_code=201)  # fmt: skip


def save_holdings(
    request: Request, store: Any, scope: Scope, site: str, filename: str, data: bytes
) -> dict[str, Any]:
    """Check an uploaded compliance file and import it as the site's allowance account
    (shared by the API and the dashboard form)."""
    scope.require_admin()
    opened = open_site(request, store, scope, site)
    if not opened.access.own:
        raise PermissionDenied("仅站点所属组织 / only the site's own organisation may do this")
    if len(data) > MAX_HOLDINGS_BYTES:
        raise InputError("文件超过 1 MB / the holdings file is larger than 1 MB", field="file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"不是 UTF-8 文件 / not a UTF-8 file: {exc}", field="file") from None
    raw = parse_yaml(text, where=filename)
    accounts.parse(raw, filename)  # every issue listed before anything is written
    with store.write() as conn:
        return accounts.import_file(conn, ledger_of(request.app), opened.model.organisation.id,
                                    site, raw, by=f"user:{scope.principal.username}",
                                    where=filename)  # fmt: skip
