"""A newcomer's first hour (issue 18) in headless Chromium against a real server: every
navigation link opens a working page in both languages, forms show their errors in
place and localized, times are in the site's zone, /docs works offline, and no stored
code or bilingual message leaks through untranslated. Screenshots: 50-… in
test-output/screenshots/."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tansuan.ledger.log import latest_sth
from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.twin.history import save_state, state_path
from tansuan.web.app import create_app
from tansuan.web.deps import ledger_of
from tests.conftest import FROZEN_NOW
from tests.web import insights_data as planted
from tests.web.browser import ARGS, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build

#: Text that must never reach a page: stored codes and internal ids shown as they are.
UNTRANSLATED = ("2-location", "off_shift", "degradation", "degC", ">prefix<", "scope 1")
#: English words of the bilingual messages, which must not show in a zh-CN page.
ENGLISH_IN_ZH = re.compile(r"outside its shifts|give the intervention date|is not a number")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser-navigation")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True,
                        energy_tariff=0.8, findings_factor_t_per_mwh=0.5)  # fmt: skip
    store = Store(url, settings=settings)
    built = build(store, FROZEN_NOW.astimezone(dt.UTC))
    planted.plant_findings(built["ingestor"])
    planted.plant_savings(built["ingestor"])
    # The twin's record of the demo's intervention (what `tansuan demo` writes), naming the
    # metered node: the savings page lists it and opens it.
    save_state(state_path(settings.data_dir, "demo-site"),
               {"site": "demo-site", "intervention": planted.INTERVENTION.isoformat(),
                "savings_node": "fan-001"})  # fmt: skip
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        with store.write() as conn:  # the ledger opens with the app's lifespan
            ledger_of(app).issue_sth(conn)
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser, "store": store, "month": built["month"]}
        finally:
            browser.close()
    store.close()


def _login(site: dict[str, Any], lang: str, username: str = "alice") -> Any:
    # The browser runs in UTC, the site in Asia/Shanghai: a time shown in the browser's
    # zone would be 8 h off.
    context = site["browser"].new_context(viewport={"width": 1280, "height": 900},
                                          timezone_id="UTC", locale="en-GB")  # fmt: skip
    context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    return page


def _assert_clean(page: Any, lang: str, where: str) -> None:
    html = page.content()
    text = page.locator("body").inner_text()
    assert not text.lstrip().startswith(("{", "[")), f"{where}: raw JSON\n{text[:300]}"
    assert '"detail":' not in text, f"{where}: raw JSON error\n{text[:300]}"
    assert "<" not in page.title(), f"{where}: HTML in the title: {page.title()!r}"
    for marker in UNTRANSLATED:
        assert marker not in html if marker.startswith(">") else marker not in text, (
            f"{where} ({lang}): untranslated {marker!r}"
        )
    if lang == "zh-CN":
        found = ENGLISH_IN_ZH.search(text)
        assert found is None, f"{where}: English in the zh-CN page: {found and found.group()}"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_navigation_link_opens_a_working_page(site: dict[str, Any], lang: str) -> None:
    """Each link of the top navigation answers 200 with an HTML page, no raw JSON, no
    untranslated code (savings: HTTP 400 before; allowances: 404)."""
    page = _login(site, lang)
    links = page.eval_on_selector_all("header nav a", "els => els.map(e => [e.id, e.href])")
    assert len(links) >= 12, links
    for link, href in links:
        response = page.goto(href)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, (
            f"{link} ({lang}): HTTP {response.status}: {page.locator('main').inner_text()}"
        )
        assert response.headers["content-type"].startswith("text/html"), link
        _assert_clean(page, lang, link)
        shot(page, f"50-nav-{lang}-{link.removeprefix('nav-')}")


def test_savings_lists_the_known_intervention_and_opens_it(site: dict[str, Any]) -> None:
    page = _login(site, "en")
    page.click("#nav-savings")
    page.wait_for_selector("#interventions tr.intervention")
    rows = page.locator("#interventions tr.intervention")
    assert rows.count() == 1
    assert "2025-07-01" in rows.first.inner_text() and "fan-001" in rows.first.inner_text()
    # opened: the planted saving is 30 % (1000 → 700 kWh/day, tests/web/insights_data.py)
    fraction = float(page.locator("#avoided-fraction").inner_text().split()[0])
    assert fraction == pytest.approx(30.0, abs=2.0)
    page.wait_for_selector("#savings-chart canvas")
    shot(page, "51-savings-known-intervention")


def test_allowances_without_an_account_explain_and_offer_the_import(
    site: dict[str, Any],
) -> None:
    page = _login(site, "zh-CN")
    response = page.goto(site["base"] + "/insights/position?site=demo-site&year=2026")
    assert response.status == 200
    box = page.locator("#no-account").inner_text()
    assert "2026 年尚无配额账户" in box and "tansuan position import" in box
    assert page.locator("#holdings-upload input[type=file]").is_visible()  # alice: admin
    shot(page, "52-position-no-account")


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        ("zh-CN", "days=abc", "天数: “abc”不是数字"),
        ("en", "days=abc", "days: 'abc' is not a number"),
        ("zh-CN", "green=2", "绿电比例须在 0 到 1 之间"),
        ("en", "green=2", "green share must be between 0 and 1"),
        ("zh-CN", "days=3", "天数须在 7 到 366 之间"),
    ],
)
def test_whatif_errors_show_in_the_result_card_localized(
    site: dict[str, Any], lang: str, query: str, expected: str
) -> None:
    page = _login(site, lang)
    page.goto(site["base"] + "/whatif")
    field, value = query.split("=")
    page.fill(f"#whatif-form input[name={field}]", value)
    page.click("#whatif-run")
    page.wait_for_selector("#whatif-result #form-error")
    card = page.locator("#whatif-result")
    assert expected in card.inner_text()
    assert card.locator("header, nav, h1").count() == 0  # no page inside the card
    shot(page, f"53-whatif-error-{lang}-{field}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_field_fastapi_cannot_parse_gets_a_localized_page(
    site: dict[str, Any], lang: str
) -> None:
    """``/ui/whatif?days=abc`` opened directly and ``?year=abc`` on a page form: the
    dashboard's error, in the page's language, never FastAPI's JSON."""
    page = _login(site, lang)
    response = page.goto(site["base"] + "/insights/forecast?site=demo-site&year=abc")
    assert response.status == 400
    error = page.locator("#insights-error").inner_text()
    assert ("年份须为整数" in error) == (lang == "zh-CN")
    assert ("whole number" in error) == (lang == "en")
    _assert_clean(page, lang, "forecast year=abc")
    response = page.goto(site["base"] + "/insights/findings?site=demo-site&show=abc")
    assert response.status == 400
    assert page.locator("#error-detail").is_visible()
    _assert_clean(page, lang, "findings show=abc")
    shot(page, f"54-bad-field-{lang}")


def test_device_times_are_in_the_site_zone_and_labelled(site: dict[str, Any]) -> None:
    """The fan's readings end at FROZEN_NOW's hour in Shanghai; the browser runs in UTC,
    so a browser-zone rendering would show 8 h less."""
    page = _login(site, "en")
    page.goto(site["base"] + "/sites/demo-site/devices/fan-001")
    cell = page.locator("#live tr[data-point='fan-001.power'] td.ts")
    iso = cell.get_attribute("data-ts")
    assert iso
    expected = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Shanghai"))
    assert cell.inner_text() == expected.strftime("%Y-%m-%d %H:%M:%S")
    assert "Asia/Shanghai" in page.locator("#tz-label").inner_text()
    shot(page, "55-device-site-time")


def test_ledger_title_and_tree_head_time(site: dict[str, Any]) -> None:
    page = _login(site, "zh-CN")
    page.goto(site["base"] + "/ledger")
    assert page.title() == "账本 · 碳算"
    with site["store"].read() as conn:
        head = latest_sth(conn)
    assert head is not None
    when = dt.datetime.fromtimestamp(head.timestamp_ms / 1000, dt.UTC)
    local = when.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert page.locator("#sth-time").inner_text() == f"{local} (Asia/Shanghai)"
    assert page.locator("section.card h2", has_text="验证回执").count() == 1
    shot(page, "56-ledger")


def test_api_docs_work_offline(site: dict[str, Any]) -> None:
    """Every request off this server is refused: Swagger UI comes from the package."""
    context = site["browser"].new_context(viewport={"width": 1280, "height": 900})
    base = site["base"]
    refused: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "tansuan" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-tag", timeout=15000)
    assert refused == []
    shot(page, "57-api-docs-offline")
    context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_codes_and_findings_in_one_language(site: dict[str, Any], lang: str) -> None:
    page = _login(site, lang)
    scopes = page.locator("#by-scope").inner_text()
    assert ("范围" in scopes) == (lang == "zh-CN") and "2-location" not in scopes
    page.goto(site["base"] + "/insights/findings?site=demo-site&start=2025-03-03&end=2025-03-17")
    table = page.locator("#findings-table").inner_text()
    has_cjk = re.search(r"[\u4e00-\u9fff]", table.split("\n", 1)[1]) is not None
    assert "off_shift" not in table
    if lang == "zh-CN":
        assert "班次外运行" in table and "outside its shifts" not in table
    else:
        assert "Running off shift" in table and not has_cjk
    page.goto(site["base"] + "/admin/tokens")
    header = page.locator("#tokens tr").first.inner_text()
    assert ("前缀" if lang == "zh-CN" else "Prefix") in header
    shot(page, f"58-findings-{lang}")


def test_trace_is_a_chain_with_the_json_behind_a_toggle(site: dict[str, Any]) -> None:
    page = _login(site, "zh-CN")
    page.goto(f"{site['base']}/emissions?node=demo-site&period={site['month'][:4]}")
    page.locator("#emission-lines a.trace-link").first.click()
    page.wait_for_selector("#trace-chain")
    steps = page.locator("#trace-chain ol.chain > li h5").all_inner_texts()
    assert steps[0] == "读数" and steps[-1] == "结果"
    assert {"汇总", "活动数据", "排放因子", "公式"} <= set(steps)
    factors = page.locator("#trace-chain li.step-factors").inner_text()
    assert "grid.ets" in factors or "MEE" in factors or "IPCC" in factors
    raw = page.locator("#trace-json pre")
    assert not raw.is_visible()
    page.click("#trace-json summary")
    assert raw.is_visible()
    json.loads(raw.inner_text())
    shot(page, "59-trace-chain")
