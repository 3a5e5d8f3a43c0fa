"""The dashboard in Debian's headless Chromium (Playwright), against a real server.

Every page visited is saved as a screenshot in test-output/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.browser import ARGS, SCREENSHOTS, TAKEN, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    now = FROZEN_NOW.astimezone(dt.UTC)
    built = build(store, now)
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser, "store": store, "built": built, "now": now,
                   "app": app}  # fmt: skip
        finally:
            browser.close()
    store.close()


def _login(site: dict[str, Any], username: str, lang: str | None = None) -> Any:
    context = site["browser"].new_context(viewport={"width": 1280, "height": 860})
    if lang:
        context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/")
    assert page.url.endswith("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    return page


def _ingest(site: dict[str, Any], point: str, value: float) -> None:
    ts = np.array([time.time_ns() // 1000], dtype=np.int64)
    site["built"]["ingestor"].ingest_columns(["demo-site"], [point], ts, np.array([value]),
                                             source="test")  # fmt: skip


def test_login_drill_down_and_live_value(site: dict[str, Any]) -> None:
    page = _login(site, "alice")
    assert page.locator("#energy-today").is_visible()
    shot(page, "01-overview")
    page.click("a.site-link >> text=示范工厂 Demo Plant")
    page.wait_for_url("**/sites/demo-site")
    assert page.locator("#tree a.device-link[data-device='boiler-1']").is_visible()
    shot(page, "02-site-tree")
    page.click("#tree a.device-link[data-device='fan-001']")
    page.wait_for_url("**/sites/demo-site/devices/fan-001")
    page.wait_for_selector("#live-dot.on", timeout=5000)  # the event stream is open
    cell = page.locator("#live tr[data-point='fan-001.power'] .value")
    before = cell.text_content()
    started = time.monotonic()
    _ingest(site, "fan-001.power", 77.7)
    selector = "#live tr[data-point='fan-001.power'] .value"
    page.wait_for_function(
        f"document.querySelector({selector!r}).textContent === '77.7'", timeout=2000
    )
    elapsed = time.monotonic() - started
    assert before != "77.7" and elapsed < 2.0
    # A counter's register is shown exactly, live and on reload (issue 18 item 10: it
    # showed 6985000 for 6,985,123.4 kWh).
    _ingest(site, "fan-001.energy", 6985123.4)
    counter = "#live tr[data-point='fan-001.energy'] .value"
    page.wait_for_function(
        f"document.querySelector({counter!r}).textContent === '6985123.4'", timeout=3000
    )
    page.reload()
    assert page.locator(counter).text_content() == "6985123.4"
    page.click("#res-raw")
    page.wait_for_selector("#history canvas")
    shot(page, "03-device-live")
    for res in ("hour", "day", "month"):
        page.click(f"#res-{res}")
        page.wait_for_timeout(150)
    shot(page, "04-device-month")


def test_trace_is_one_click_away_and_language_switch(site: dict[str, Any]) -> None:
    page = _login(site, "alice")
    month = site["built"]["month"]
    page.goto(f"{site['base']}/emissions?node=demo-site&period={month[:4]}")
    assert "30.796" in page.locator("#emission-lines").inner_text()
    page.click("#emission-lines a.trace-link")
    page.wait_for_selector("#trace-body", timeout=5000)
    assert "grid-power" in page.locator("#trace-body").inner_text()
    shot(page, "05-emissions-trace")
    with page.expect_download() as download:  # the report download button
        page.select_option("#report-form select[name=fmt]", "html")
        page.click("#report-download")
    issued = Path(download.value.path()).read_text(encoding="utf-8")
    assert "tansuan-receipt-v1" in issued and "30.796" in issued
    assert page.locator("#nav-emissions").inner_text() == "排放"
    page.click("#lang-switch")
    page.wait_for_selector("#nav-emissions >> text=Emissions")
    page.goto(site["base"] + "/overview")  # remembered in a cookie
    assert page.locator("#nav-overview").inner_text() == "Overview"
    shot(page, "06-overview-en")
    page.click("#lang-switch")
    page.wait_for_selector("#nav-overview >> text=总览")


def test_other_pages(site: dict[str, Any]) -> None:
    page = _login(site, "alice", lang="en")
    for name, path, selector in (
        ("07-quality", "/quality/demo-site", "#quality-points"),
        ("08-ledger", "/ledger", "#tree-size"),
        ("09-users", "/admin/users", "#users"),
        ("10-tokens", "/admin/tokens", "#tokens"),
        ("11-grants", "/admin/grants", "#grants"),
    ):
        response = page.goto(site["base"] + path)
        assert response is not None and response.status == 200, path
        assert page.locator(selector).is_visible()
        shot(page, name)
    page.goto(site["base"] + "/quality/demo-site")  # issue 18 item 4
    assert "<" not in page.title() and page.title().startswith("Data quality")
    assert "Arrives every" in page.locator("#quality-points tr").first.inner_text()
    assert page.locator("#quality-points td.cadence").count() > 0
    page.goto(site["base"] + "/admin/tokens")
    page.check("input[name=scopes][value=ingest]")
    page.fill("input[name=name]", "meter gateway")
    page.click("form[action='/admin/tokens'] button")
    assert page.locator("#new-token").inner_text().startswith("tsn_")
    shot(page, "12-token-created")
    login = site["browser"].new_page()
    login.goto(site["base"] + "/login")
    login.fill("#username", "alice")
    login.fill("#password", "wrong password")
    login.click("#login-submit")
    assert login.locator("#login-error").is_visible()
    shot(login, "00-login-error")


def test_verifier_sees_granted_data_and_is_refused_the_rest(site: dict[str, Any]) -> None:
    admin = _login(site, "alice", lang="en")
    admin.goto(site["base"] + "/admin/grants")
    admin.select_option("select[name=site]", "demo-site")
    admin.fill("input[name=node]", "hull-shop")
    admin.check("input[name=classes][value=raw]")
    admin.check("input[name=classes][value=hourly]")
    today = FROZEN_NOW.date()  # the day the site's data was built on
    admin.fill("input[name=window_from]", (today - dt.timedelta(days=1)).isoformat())
    admin.fill("input[name=window_to]", (today + dt.timedelta(days=2)).isoformat())
    admin.fill("input[name=expires]", "2099-12-31")  # grants expire on the real clock
    admin.fill("input[name=grantee_org]", "verify-co")
    admin.click("form[action='/admin/grants'] button")
    admin.wait_for_selector("#grants td >> text=verify-co")
    shot(admin, "13-grant-created")

    page = _login(site, "vera", lang="en")
    assert page.locator("#shared-sites").is_visible()
    shot(page, "14-verifier-overview")
    page.click("#shared-sites a.site-link")
    page.wait_for_url("**/sites/demo-site")
    assert page.locator("a.device-link[data-device='fan-001']").count() == 1
    assert page.locator("a.device-link[data-device='boiler-1']").count() == 0
    shot(page, "15-verifier-tree")
    page.click("a.device-link[data-device='fan-001']")
    page.wait_for_selector("#live tr[data-point='fan-001.power']")
    shot(page, "16-verifier-device")
    refused = page.goto(site["base"] + "/sites/demo-site/devices/boiler-1")
    assert refused is not None and refused.status == 403
    assert page.locator("#error-title").inner_text() == "Not allowed"
    shot(page, "17-verifier-refused")
    hidden = page.goto(site["base"] + "/sites/other-site")
    assert hidden is not None and hidden.status == 404
    quality = page.goto(site["base"] + "/quality/demo-site")
    assert quality is not None and quality.status == 403
    page.goto(site["base"] + "/emissions?node=demo-site&period=2025")
    assert "no grant opens 'annual'" in page.locator("#emissions-error").inner_text()
    shot(page, "19-verifier-emissions-refused")
    admin.goto(site["base"] + "/admin/grants")
    assert admin.locator("#grant-reads td >> text=vera").count() >= 1
    shot(admin, "18-grant-audit")


def test_whatif_page_runs_the_twin(site: dict[str, Any]) -> None:
    page = _login(site, "alice")
    page.goto(site["base"] + "/whatif")
    page.fill("#whatif-form input[name=days]", "7")
    page.click("#whatif-run")
    page.wait_for_selector("#whatif-table", timeout=30000)
    assert "风机定时控制" in page.locator("#whatif-title").inner_text()
    shot(page, "20-whatif")


def test_screenshots_were_written(site: dict[str, Any]) -> None:
    """The pages visited above were saved in this session: a picture left over from an
    earlier run does not count (the first screenshot of a session empties the folder)."""
    mine = [p for p in TAKEN if p.parent == SCREENSHOTS]
    if not mine:
        pytest.skip("run with the browser tests above: they take the screenshots")
    assert len(set(mine)) >= 19, [p.name for p in mine]
    on_disk = {p.name for p in SCREENSHOTS.glob("*.png")}
    assert {p.name for p in mine} <= on_disk
    assert on_disk == {p.name for p in TAKEN}  # nothing else: no leftovers
