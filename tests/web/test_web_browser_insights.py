"""The analytics pages in headless Chromium against a real server, on planted truth
(tests/web/insights_data.py); screenshots in test-output/screenshots/ (30-…)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web import insights_data as planted
from tests.web.browser import ARGS, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser-insights")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True,
                        energy_tariff=0.8, findings_factor_t_per_mwh=0.5,
                        alert_thresholds=["*:month_tco2e>500"])  # fmt: skip
    store = Store(url, settings=settings)
    built = build(store, FROZEN_NOW.astimezone(dt.UTC))
    planted.plant_all(store, built["ingestor"])
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser}
        finally:
            browser.close()
    store.close()


def _login(site: dict[str, Any], username: str, lang: str = "zh-CN") -> Any:
    context = site["browser"].new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    return page


def test_findings_page_links_each_finding_to_its_evidence(site: dict[str, Any]) -> None:
    page = _login(site, "alice")
    page.click("#nav-findings")
    page.wait_for_url("**/insights/findings")
    page.fill("input[name=start]", "2025-03-03")
    page.fill("input[name=end]", "2025-03-17")
    page.click("#findings-form button")
    page.wait_for_selector("#findings-table tr.finding")
    row = page.locator("#findings-table tr.finding").first
    assert "fan-001" in row.inner_text() and "14,600" in row.inner_text()
    # issue 18 item 9: the total on top, a group per kind, the rank kept for the evidence
    cost = row.locator("td.num").nth(2).inner_text()
    assert page.locator("#findings-total-cost").inner_text() == cost
    assert page.locator("#findings-groups tr.finding-group").count() >= 1
    assert page.locator("#findings-pages").count() == 0  # one finding: one page
    row.locator("a.evidence-link").click()
    page.wait_for_selector("#evidence-chart canvas")
    shot(page, "30-findings-evidence")


def test_degradation_evidence_draws_baseline_and_cusum(site: dict[str, Any]) -> None:
    """The findings page's chart code with a degradation record (daily kWh, baseline,
    CUSUM, start): it draws without a script error."""
    page = _login(site, "alice", "en")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site["base"] + "/insights/findings?site=demo-site&start=2025-03-03&end=2025-03-17")
    page.wait_for_selector("#evidence-chart canvas")
    drawn = page.evaluate(
        """() => {
          const el = document.createElement("div");
          el.id = "degradation-chart"; el.style.width = "600px"; el.style.height = "300px";
          document.body.appendChild(el);
          tansuanInsights.evidence("degradation-chart", {device: "pump-1", kind: "degradation",
            evidence: {days: ["2025-03-01", "2025-03-02", "2025-03-03"], actual: [240, 250, 276],
                       expected: [240, 240, 240], cusum: [0, 10, 46], start: "2025-03-02"}},
            {kwh: "kWh", flagged: "flagged", actual: "Actual", baseline: "Baseline"});
          const chart = echarts.getInstanceByDom(el);
          return chart.getOption().series.map((s) => s.name);
        }"""
    )
    assert drawn == ["Actual", "Baseline", "CUSUM"]
    # A submitted form says it is computing while the next page is on its way.
    status = page.evaluate(
        """() => { const f = document.getElementById("findings-form");
                   f.addEventListener("submit", (e) => e.preventDefault());
                   f.requestSubmit();
                   return f.querySelector(".busy[role=status]").textContent; }"""
    )
    assert status.strip() == "computing…"
    assert not errors, errors


def test_savings_page_shows_the_interval_chart(site: dict[str, Any]) -> None:
    page = _login(site, "alice", "en")
    query = "site=demo-site&node=fan-001&intervention=2025-07-01"
    page.goto(site["base"] + "/insights/savings?" + query)
    page.wait_for_selector("#savings-chart canvas")
    fraction = float(page.locator("#avoided-fraction").inner_text().split()[0])
    assert 27.0 <= fraction <= 33.0  # the planted 30 % saving, ±3 points
    assert page.locator("#nav-savings").inner_text() == "Savings"
    shot(page, "31-savings")


def test_forecast_page_with_band_and_backtest(site: dict[str, Any]) -> None:
    page = _login(site, "alice")
    page.goto(site["base"] + "/insights/forecast?site=demo-site&year=2024")
    page.wait_for_selector("#forecast-chart canvas")
    assert page.locator("#backtest tr").count() == 4  # header + three models
    assert page.locator("#forecast-table tr").count() == 19  # header + 2024-07 … 2025-12
    page.wait_for_selector("#alerts li")  # the HTMX banner: planted shortfall + threshold
    shot(page, "32-forecast")


def test_position_page_and_overview_banner(site: dict[str, Any]) -> None:
    page = _login(site, "alice", "en")
    page.goto(site["base"] + "/insights/position?site=demo-site&year=2024")
    page.wait_for_selector("#pos-shortfall")
    shortfall = float(page.locator("#pos-shortfall").inner_text().split()[0].replace(",", ""))
    assert 1_260 < shortfall < 1_740
    assert page.locator("#holdings").inner_text().count("10,000") == 1
    page.wait_for_selector("#alerts li.critical")  # the banner: the planted shortfall
    shot(page, "33-position")
    page.goto(site["base"] + "/overview")  # no year: this year has no alerts for the demo
    page.wait_for_selector("#alerts-banner #alerts-none, #alerts-banner #alerts")
    shot(page, "34-overview-alerts")


def test_another_tenant_is_refused_on_the_pages(site: dict[str, Any]) -> None:
    page = _login(site, "bob")
    response = page.goto(site["base"] + "/insights/forecast?site=demo-site&year=2024")
    assert response is not None and response.status == 404
    assert page.locator("#insights-error").is_visible()
    assert page.locator("#forecast-chart").count() == 0
    shot(page, "35-insights-refused")


def test_holdings_upload_form(site: dict[str, Any]) -> None:
    page = _login(site, "alice", "en")
    page.goto(site["base"] + "/insights/position?site=demo-site&year=2024")
    bad = planted.HOLDINGS.replace("price: 80", "price: -1").encode()
    field = "#holdings-upload input[type=file]"
    page.set_input_files(field, {"name": "bad.yaml", "mimeType": "text/yaml", "buffer": bad})
    page.click("#holdings-upload button")
    page.wait_for_selector("#insights-error")
    assert "price" in page.locator("#insights-error").inner_text()
    shot(page, "36-holdings-upload-refused")
    good = planted.HOLDINGS.encode()
    page.set_input_files(field, {"name": "good.yaml", "mimeType": "text/yaml", "buffer": good})
    # The answer redirects to the URL the page already has: wait for the navigation itself,
    # not for the URL (which matches at once and raced the reload under load in CI).
    with page.expect_navigation(url="**/insights/position?site=demo-site&year=2024"):
        page.click("#holdings-upload button")
    page.wait_for_load_state()
    assert page.locator("#pos-shortfall").is_visible()


def test_position_page_trade_form(site: dict[str, Any]) -> None:
    """The account's trades under the position; an administrator adds one through the form."""
    page = _login(site, "alice", "en")
    page.goto(site["base"] + "/insights/position?site=demo-site&year=2024")
    assert page.locator("#trades tr").count() == 2  # header + the planted CEA purchase
    page.fill("#trade-form input[name=date]", "2024-09-02")
    page.select_option("#trade-form select[name=side]", "buy")
    page.select_option("#trade-form select[name=instrument]", "CCER")
    page.fill("#trade-form input[name=quantity]", "300")
    page.fill("#trade-form input[name=price]", "41.5")
    page.fill("#trade-form input[name=note]", "broker Y")
    # The answer redirects to the URL the page already has: wait for the navigation itself,
    # not for the URL (which matches at once and raced the reload under load in CI).
    with page.expect_navigation(url="**/insights/position?site=demo-site&year=2024"):
        page.click("#trade-form button")
    page.wait_for_load_state()
    rows = page.locator("#trades tr")
    assert rows.count() == 3
    assert "broker Y" in rows.nth(2).inner_text() and "user:alice" in rows.nth(2).inner_text()
    shot(page, "37-position-trades")
