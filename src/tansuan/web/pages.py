"""The dashboard: server-rendered pages (Jinja2 + HTMX + vendored ECharts), zh-CN / en.

Every figure on a page is read through the caller's :class:`~tansuan.store.scoped.Scope`
(the same checks as the API); the templates only lay it out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tansuan import clock
from tansuan.domain.scope import in_total
from tansuan.errors import InputError, NotFound, PermissionDenied, TansuanError
from tansuan.ledger import verify_receipt
from tansuan.ledger.log import latest_sth
from tansuan.reports.api import annual_guideline
from tansuan.settings import Settings
from tansuan.store import grants, users
from tansuan.store.schema import DATA_CLASSES, ROLES, SCOPES
from tansuan.store.scoped import Scope
from tansuan.store.timeutil import from_us, to_us, zone
from tansuan.store.users import Principal
from tansuan.twin import DEFAULT, DEMOS
from tansuan.twin.scenario import Change, compare
from tansuan.views import dashboard, quality
from tansuan.views.emissions import node_emissions, result_set_trace
from tansuan.views.trace import chain as trace_chain
from tansuan.web import auth, i18n
from tansuan.web.deps import IdPath, ledger_of, session_principal
from tansuan.web.routes.reports import issue

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
templates = Jinja2Templates(directory=str(files("tansuan.web") / "templates"))
templates.env.filters["us_date"] = lambda us: "" if us is None else from_us(us).date().isoformat()


def _local_ts(iso: str | None, timezone: str = "Asia/Shanghai") -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM:SS`` in the site's time zone."""
    if not iso:
        return "—"
    return dt.datetime.fromisoformat(iso).astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["local_ts"] = _local_ts


def _ms_local(ms: Any, timezone: str = "Asia/Shanghai") -> str:
    """Epoch milliseconds (a signed tree head's timestamp) as local ``YYYY-MM-DD HH:MM:SS``."""
    if not isinstance(ms, int | float):
        return str(ms)
    when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).astimezone(zone(timezone))
    return when.strftime("%Y-%m-%d %H:%M:%S")


@pass_context
def _loc(context: Any, message: str | None) -> str:
    """The page language's half of a bilingual ``"中文 / English"`` message."""
    return i18n.localize(message, context.get("lang", i18n.DEFAULT))


@pass_context
def _code(context: Any, value: Any, prefix: str) -> str:
    """A stored code (scope ``2-location``, finding kind ``off_shift``, unit ``degC``) by its
    translated name; an unknown code as it is."""
    t = context.get("t") or {}
    return str(t.get(f"{prefix}_{value}", value))


def _scope_names(t: dict[str, str]) -> dict[str, str]:
    """The translated names of the stored scope codes, for the overview's chart."""
    return {k.removeprefix("scope_"): v for k, v in t.items() if k.startswith("scope_")}


templates.env.filters["scope_names"] = _scope_names
templates.env.filters["ms_local"] = _ms_local
templates.env.filters["loc"] = _loc
templates.env.filters["code"] = _code


class LoginRequired(Exception):
    """Raised by a page without a session; answered with a redirect to /login."""


def _csrf(request: Request) -> tuple[str, str | None]:
    """The page's CSRF token (bound to the session, see :mod:`tansuan.web.auth`) and a new
    anonymous ``tansuan_csrf`` cookie to set when the request has neither."""
    secret = request.app.state.settings.secret_key
    cookies = request.cookies
    token = auth.csrf_token(secret, cookies.get(auth.SESSION_COOKIE), cookies.get(auth.CSRF_COOKIE))
    if token is not None:
        return token, None
    fresh = auth.new_csrf()
    return str(auth.csrf_token(secret, None, fresh)), fresh


def render(
    request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any
) -> Response:
    started = getattr(request.state, "started", None)
    lang = i18n.pick(request.cookies.get(auth.LANG_COOKIE))
    csrf, fresh = _csrf(request)
    for key in ("error", "detail"):  # refusals carry "中文 / English": show one language
        if isinstance(context.get(key), str):
            context[key] = i18n.localize(context[key], lang)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": i18n.translator(lang),
            "lang": lang,
            "user": principal,
            "csrf": csrf,
            **context,
        },
        status_code=status,
    )
    if fresh is not None:
        settings = request.app.state.settings
        response.set_cookie(
            auth.CSRF_COOKIE, fresh, httponly=True, samesite="lax", secure=not settings.demo
        )
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def _who(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise LoginRequired
    return principal


def _scope(request: Request, principal: Principal) -> Scope:
    with request.app.state.store.read() as conn:
        return Scope.load(conn, principal, ledger_of(request.app))


def _check_csrf(request: Request, sent: str) -> None:
    if not auth.cookies_csrf_ok(request.cookies, request.app.state.settings.secret_key, sent):
        raise PermissionDenied("CSRF 校验失败 / missing or wrong CSRF token")


def client_address(request: Request) -> str:
    """The client's address (see :func:`tansuan.web.auth.client_address`)."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else "?"
    trusted = auth.parse_networks(settings.trusted_proxies)
    return auth.client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def _secure(request: Request) -> bool:
    return not request.app.state.settings.demo


# --- login, logout, language -----------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse(
        "/overview" if session_principal(request) else "/login", status_code=303
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return render(request, "login.html", None, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, username: str = Form(...), password: str = Form(...), csrf: str = Form("")
) -> Response:
    _check_csrf(request, csrf)
    limiter: auth.LoginLimiter = request.app.state.login_limiter
    address = client_address(request)
    lang = i18n.pick(request.cookies.get(auth.LANG_COOKIE))
    t = i18n.translator(lang)
    refused = limiter.refusal(username, address)
    if refused is not None:
        what = "username" if refused == "user" else f"address {address}"
        log.warning("login refused (429): too many failed logins for this %s", what)
        return render(request, "login.html", None, status=429, error=t["too_many"])
    try:
        with request.app.state.store.read() as conn:
            principal = users.authenticate(conn, username, password)
            epoch = users.session_epoch(conn, principal.user_id)
    except PermissionDenied as exc:
        limiter.failed(username, address)
        return render(request, "login.html", None, status=401, error=exc.message)
    limiter.succeeded(username, address)
    response = RedirectResponse("/overview", status_code=303)
    settings = request.app.state.settings
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.make_session(settings.secret_key, principal.user_id, epoch),
        max_age=auth.SESSION_TTL_S,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    principal = session_principal(request)
    if principal is not None:
        with request.app.state.store.write() as conn:
            users.end_sessions(conn, principal.user_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def set_language(code: str, request: Request) -> Response:
    back = request.headers.get("referer") or "/"
    if not back.startswith(str(request.base_url)):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        auth.LANG_COOKIE,
        i18n.pick(code),
        max_age=365 * 86400,
        samesite="lax",
        secure=_secure(request),
    )
    return response


# --- overview, hierarchy, device --------------------------------------------------------


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    with request.app.state.store.read() as conn:
        data = dashboard.overview(conn, scope)
    return render(request, "overview.html", principal, data=data)


@router.get("/sites/{site}", response_class=HTMLResponse)
def site_page(site: str, request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    with request.app.state.store.read() as conn:
        tree = scope.tree(conn, site)
        info = _site_info(conn, scope, site)
    return render(request, "site.html", principal, site=site, tree=tree, info=info)


def _site_info(conn: Any, scope: Scope, site: str) -> dict[str, Any]:
    """Organisation, company and name of a visible site (for the breadcrumbs)."""
    return next((s for s in scope.sites(conn) if s["site"] == site), {"site": site, "name": site})


@router.get("/sites/{site}/devices/{device}", response_class=HTMLResponse)
def device_page(site: str, device: str, request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    store = request.app.state.store
    with store.read() as conn:
        tree = scope.tree(conn, site)
        values, access = scope.latest(conn, site, device)
        info = _site_info(conn, scope, site)
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"device page {site}/{device}", "raw")
    return render(
        request,
        "device.html",
        principal,
        site=site,
        device=device,
        tree=tree,
        values=values,
        info=info,
        tz=info.get("timezone") or request.app.state.settings.default_timezone,
    )


@router.get("/quality/{site}", response_class=HTMLResponse)
def quality_page(site: str, request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    store = request.app.state.store
    with store.read() as conn:
        access = scope.access(conn, site, "", "hourly")
        report = quality.site_quality(conn, site)
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"quality page {site}", "hourly")
    status = request.app.state.gateway_status
    gateways = [g for g in (status() if status else []) if g.get("site") in (None, site)]
    return render(request, "quality.html", principal, site=site, report=report, gateways=gateways)


# --- emissions and traces --------------------------------------------------------------


@router.get("/emissions", response_class=HTMLResponse)
def emissions_page(request: Request, node: str = "", period: str = "") -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    with request.app.state.store.read() as conn:
        sites = scope.sites(conn)
    node = node or (sites[0]["site"] if sites else "")
    period = period or f"{clock.today().year}"
    data, error = None, None
    if node:
        try:
            state = request.app.state
            data = node_emissions(state.store, scope, state.accountants, node, period, "source",
                                  traces=False,
                                  default_tz=state.settings.default_timezone)  # fmt: skip
        except (NotFound, PermissionDenied) as exc:
            error = exc.message
    groups: dict[str, dict[str, float]] = {"scope": {}, "gas": {}, "source": {}}
    for line in (data or {}).get("results", []):
        if not in_total(line["scope"]):
            continue
        for key, sums in groups.items():
            sums[line[key]] = sums.get(line[key], 0.0) + line["co2e_t"]
    return render(request, "emissions.html", principal, node=node, period=period, data=data,
                  sites=sites, groups=groups, error=error,
                  guideline=_annual_guideline(request, sites, node))  # fmt: skip


def _annual_guideline(request: Request, sites: list[dict[str, Any]], node: str) -> str:
    """The layout and guideline the download's annual report follows (the site's sector)."""
    row = next((s for s in sites if s["site"] == node), None)
    if row is None:
        return ""
    lang = "zh" if i18n.pick(request.cookies.get(auth.LANG_COOKIE)) == "zh-CN" else "en"
    try:
        model = request.app.state.accountants.of(row["org"]).model
        return annual_guideline(model, node, lang)
    except TansuanError:
        return ""


@router.post("/ui/report")
async def download_report(
    request: Request,
    site: str = Form(...),
    kind: str = Form("annual"),
    year: int = Form(...),
    fmt: str = Form("pdf"),
    csrf: str = Form(""),
) -> Response:
    """The emissions page's download button: issue the report (with its receipt)."""
    _check_csrf(request, csrf)
    principal = _who(request)
    scope = _scope(request, principal)
    # the report in the page's language (the UI says zh-CN, reports say zh)
    lang = "zh" if i18n.pick(request.cookies.get(auth.LANG_COOKIE)) == "zh-CN" else "en"
    if kind not in ("annual", "inventory", "energy") or fmt not in ("pdf", "html", "xlsx"):
        raise PermissionDenied("unknown report or format / 未知的报告或格式")
    return await issue(
        request, request.app.state.store, scope, ledger_of(request.app), kind,  # type: ignore[arg-type]
        site, year, None, fmt, lang,  # type: ignore[arg-type]
    )  # fmt: skip


@router.get("/whatif", response_class=HTMLResponse)
def whatif_page(request: Request, site: str = "") -> Response:
    """What-if scenarios on a demo site's digital twin."""
    principal = _who(request)
    return render(request, "whatif.html", principal, demo_sites=DEMOS, site=site or DEFAULT)


@router.get("/ui/whatif", response_class=HTMLResponse)
async def whatif_fragment(
    request: Request,
    site: str = "shipyard",
    fan_schedule: bool = False,
    vfd: bool = False,
    fuel: str = "",
    green: str = "0",
    production: str = "1",
    days: str = "30",
) -> Response:
    """Baseline vs scenario, computed by the twin (a few seconds for a month).

    A bad field answers with the form's error fragment (localized, in the result card,
    status 400) instead of a whole page or FastAPI's JSON."""
    principal = _who(request)
    t = i18n.translator(i18n.pick(request.cookies.get(auth.LANG_COOKIE)))
    errors: list[str] = []

    def number(text: str, label: str) -> float | None:
        try:
            value = float(text.strip())
        except ValueError:
            errors.append(f"{label}: " + t["not_a_number"].format(value=text))
            return None
        if value != value or value in (float("inf"), float("-inf")):
            errors.append(f"{label}: " + t["not_a_number"].format(value=text))
            return None
        return value

    n_days, share, factor = number(days, t["days"]), number(green, t["green_share"]), \
        number(production, t["production"])  # fmt: skip
    if n_days is not None and not (n_days == int(n_days) and 7 <= n_days <= 366):
        errors.append(t["whatif_days_range"])
    if share is not None and not 0.0 <= share <= 1.0:
        errors.append(t["whatif_green_range"])
    if factor is not None and factor <= 0:
        errors.append(t["whatif_production_range"])
    result = None
    if not errors:
        assert n_days is not None and share is not None and factor is not None
        change = Change(
            fan_schedule=fan_schedule, vfd_retrofit=vfd, fuel=fuel.strip() or None,
            green_share=share, production=factor,
        )  # fmt: skip
        try:
            result = await run_in_threadpool(compare, site, change, days=int(n_days))
        except TansuanError as exc:
            errors.append(i18n.localize(exc.message, t["_lang"]))
    if errors or result is None:
        return render(request, "_form_error.html", principal, status=400, errors=errors)
    return render(request, "_whatif_result.html", principal, rows=result.rows(t["_lang"]),
                  label=change.label(t["_lang"]))  # fmt: skip


@router.get("/ui/trace/{set_id}", response_class=HTMLResponse)
def trace_fragment(set_id: IdPath, request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    state = request.app.state
    data = result_set_trace(state.store, scope, set_id,
                            default_tz=state.settings.default_timezone)  # fmt: skip
    text = json.dumps(data["trace"], ensure_ascii=False, indent=2, default=str)
    steps = trace_chain(data["trace"], data.get("lines", []))
    return render(request, "trace.html", principal, data=data, text=text, steps=steps)


# --- ledger ----------------------------------------------------------------------------


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, outcome: dict[str, Any] | None = None) -> Response:
    principal = _who(request)
    with request.app.state.store.read() as conn:
        size = ledger_of(request.app).tree_size(conn)
        head = latest_sth(conn)
    sth = None if head is None else head.to_json()
    return render(request, "ledger.html", principal, size=size, sth=sth, outcome=outcome,
                  tz=request.app.state.settings.default_timezone)  # fmt: skip


@router.post("/ledger/verify", response_class=HTMLResponse)
async def verify_receipt_page(
    request: Request,
    receipt: str = Form(...),
    document: UploadFile | None = None,
    csrf: str = Form(""),
) -> Response:
    """Check a report's receipt against this log's public key (and the report file)."""
    _check_csrf(request, csrf)
    try:
        parsed = json.loads(receipt)
    except ValueError as exc:
        raise InputError(f"the receipt is not JSON ({exc})", field="receipt") from None
    if not isinstance(parsed, dict):
        raise InputError("the receipt must be a JSON object", field="receipt")
    data = await document.read() if document is not None and document.filename else None
    result = verify_receipt(parsed, public_key=ledger_of(request.app).public_key, document=data)
    outcome = {"ok": result.ok, "findings": [f"{f.code}: {f.detail}" for f in result.findings],
               "notes": result.notes}  # fmt: skip
    return await run_in_threadpool(ledger_page, request, outcome)


# --- admin -----------------------------------------------------------------------------


def _admin(request: Request) -> tuple[Principal, Scope]:
    principal = _who(request)
    scope = _scope(request, principal)
    scope.require_admin()
    return principal, scope


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, message: str = "") -> Response:
    principal, scope = _admin(request)
    with request.app.state.store.read() as conn:
        rows = users.users(conn, scope.org)
    return render(request, "users.html", principal, rows=rows, roles=ROLES, message=message)


@router.post("/admin/users")
def add_user(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    display_name: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    _principal, scope = _admin(request)
    with request.app.state.store.write() as conn:
        users.add_user(
            conn,
            org=scope.org,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request) -> Response:
    principal, scope = _admin(request)
    with request.app.state.store.read() as conn:
        rows = users.tokens(conn, scope.org)
    return render(request, "tokens.html", principal, rows=rows, scopes=SCOPES, new_token=None)


@router.post("/admin/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, name: str = Form(...), scopes: list[str] = Form(...), csrf: str = Form("")
) -> Response:
    _check_csrf(request, csrf)
    principal, scope = _admin(request)
    with request.app.state.store.write() as conn:
        _id, token = users.create_token(conn, principal.user_id, name, scopes)
        rows = users.tokens(conn, scope.org)
    return render(request, "tokens.html", principal, rows=rows, scopes=SCOPES, new_token=token)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: IdPath, request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    _principal, scope = _admin(request)
    with request.app.state.store.write() as conn:
        users.revoke_token(conn, scope.org, token_id)
    return RedirectResponse("/admin/tokens", status_code=303)


@router.get("/admin/grants", response_class=HTMLResponse)
def grants_page(request: Request) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    with request.app.state.store.read() as conn:
        rows = grants.listing(conn, scope.org, principal.user_id)
        sites = [s for s in scope.sites(conn) if s["own"]]
        reads = grants.reads(conn, scope.org, limit=50) if principal.role == "admin" else []
    return render(
        request, "grants.html", principal, rows=rows, sites=sites, classes=DATA_CLASSES, reads=reads
    )


def _date_us(text: str, field: str, timezone: str) -> int:
    """Local midnight starting ``text`` (YYYY-MM-DD) in ``timezone`` [epoch µs]."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {text!r}", field=field) from None
    return to_us(dt.datetime(day.year, day.month, day.day, tzinfo=zone(timezone)), field=field)


@router.post("/admin/grants")
def create_grant(
    request: Request,
    site: str = Form(...),
    node: str = Form(""),
    classes: list[str] = Form(...),
    window_from: str = Form(...),
    window_to: str = Form(...),
    expires: str = Form(...),
    grantee_org: str = Form(""),
    grantee_user: str = Form(""),
    note: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    principal, scope = _admin(request)
    with request.app.state.store.read() as conn:
        tz = next((s["timezone"] for s in scope.sites(conn) if s["site"] == site),
                  request.app.state.settings.default_timezone)  # fmt: skip
    with request.app.state.store.write() as conn:
        grants.create(
            conn,
            ledger_of(request.app),
            grantor_org=scope.org,
            created_by=principal.user_id,
            site=site,
            node=node.strip(),
            classes=classes,
            window_from_us=_date_us(window_from, "window_from", tz),
            window_to_us=_date_us(window_to, "window_to", tz),
            expires_at_us=_date_us(expires, "expires", tz),
            grantee_org=grantee_org.strip() or None,
            grantee_user=grantee_user.strip() or None,
            note=note,
        )
    return RedirectResponse("/admin/grants", status_code=303)


@router.post("/admin/grants/{grant_id}/revoke")
def revoke_grant(grant_id: IdPath, request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    principal, scope = _admin(request)
    with request.app.state.store.write() as conn:
        grants.revoke(conn, ledger_of(request.app), scope.org, grant_id, principal.user_id)
    return RedirectResponse("/admin/grants", status_code=303)


# --- wiring ----------------------------------------------------------------------------


def page_error(request: Request, error: Exception) -> Response:
    """HTML for a refused or missing page (API paths keep problem+json); an HTMX form's
    request gets the error fragment, to show in place of its result."""
    principal = session_principal(request)
    lang = i18n.pick(request.cookies.get(auth.LANG_COOKIE))
    t = i18n.translator(lang)
    status = (
        404 if isinstance(error, NotFound) else 403 if isinstance(error, PermissionDenied) else 400
    )
    detail = i18n.localize(getattr(error, "message", str(error)), lang)
    if request.headers.get("hx-request"):
        return render(request, "_form_error.html", principal, status=status, errors=[detail])
    title = t["not_found"] if status == 404 else t["not_allowed"] if status == 403 else t["error"]
    return render(request, "error.html", principal, status=status, title=title, detail=detail)


def invalid_request(request: Request, error: RequestValidationError) -> Response:
    """A page's query or form field FastAPI cannot parse (``days=abc``): the localized
    error page or fragment, not FastAPI's JSON (the API keeps its 422 JSON)."""
    t = i18n.translator(i18n.pick(request.cookies.get(auth.LANG_COOKIE)))
    fields = []
    for item in error.errors():
        name = str(item.get("loc", ("?",))[-1])
        value = item.get("input")
        fields.append(t["invalid_field"].format(field=name, value=value))
    return page_error(request, InputError("; ".join(fields)))


def install(app: FastAPI) -> None:
    """Add the pages, the static files and the page-timing middleware to ``app``."""
    settings: Settings = app.state.settings
    app.state.login_limiter = auth.LoginLimiter(
        user_failures=settings.login_user_failures,
        address_failures=settings.login_address_failures,
        window_s=settings.login_window_s,
        max_keys=settings.login_tracked_max,
        known_s=settings.login_known_s,
    )
    app.mount("/static", StaticFiles(directory=str(files("tansuan.web") / "static")), name="static")
    app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        html = "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request")
        if request.url.path.startswith("/api/") or not html:
            return await request_validation_exception_handler(request, exc)
        return invalid_request(request, exc)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.middleware("http")
    async def _timing(request: Request, call_next: Any) -> Response:
        request.state.started = time.perf_counter()
        response: Response = await call_next(request)
        if "server-timing" not in response.headers and not request.url.path.startswith("/static"):
            elapsed = (time.perf_counter() - request.state.started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        return response
