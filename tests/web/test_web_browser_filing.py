"""The four-eyes workflow on the emissions page in headless Chromium against a real server:
lin (carbon accountant) files the month, a recalculation is proposed, zhao (approver)
accepts it with the page's button. Screenshots in test-output/screenshots/ (40-…)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tansuan.accounting import filing, results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.ledger.log import Ledger
from tansuan.settings import Settings
from tansuan.store import Store, users
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.browser import ARGS, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build


def _set(month: str, kwh: float, co2e_g: int) -> ResultSet:
    return ResultSet(
        site_id="demo-site", source_id="grid-power", period=month, method="electricity",
        lines=(ResultLine("CO2", "2-location", co2e_g, co2e_g),), inputs={"kwh": kwh},
        trace={"formula": "electricity"}, grade="A", coverage=1.0, substituted_share=0.0,
    )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser-filing")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    built = build(store, FROZEN_NOW.astimezone(dt.UTC))
    with store.write() as conn:
        for name, role in (("lin", "carbon_accountant"), ("zhao", "approver")):
            users.add_user(conn, org="demo-group", username=name, password=PASSWORD, role=role)
        results.save(conn, _set(built["month"], 10_000, 5_000_000))
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser, "store": store, "month": built["month"],
                   "ledger": Ledger.from_data_dir(settings.data_dir)}  # fmt: skip
        finally:
            browser.close()
    store.close()


def _login(site: dict[str, Any], username: str, lang: str) -> Any:
    context = site["browser"].new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    return page


def test_file_then_accept_on_the_emissions_page(site: dict[str, Any]) -> None:
    """Filed 5.000 t; proposed 6.250 t (+1.250 t); zhao accepts; the page's total for the
    month is then 6.250 t."""
    month = site["month"]
    page = _login(site, "lin", "en")
    page.goto(f"{site['base']}/emissions?node=demo-site&period={month}")
    page.wait_for_selector("#filing-panel")
    assert page.locator("#reopen-button").count() == 0  # an accountant files, not reopens
    page.fill("#file-form input[name=reason]", "monthly filing")
    page.click("#file-button")
    page.wait_for_selector("#filed-months td:has-text('lin')")

    with site["store"].write() as conn:
        lin = users.user(conn, users.user_id_by_name(conn, "lin"))
        results.save(conn, _set(month, 12_500, 6_250_000),
                     hooks=[filing.proposal_hook(site["ledger"], lin)])  # fmt: skip

    page = _login(site, "zhao", "zh-CN")
    page.goto(f"{site['base']}/emissions?node=demo-site&period={month}")
    page.wait_for_selector("#proposals tr.proposal")
    row = page.locator("#proposals tr.proposal").first
    assert "6.250" in row.inner_text() and "+1.250" in row.inner_text()
    assert "lin" in row.inner_text()
    shot(page, "40-filing-proposal-pending")
    row.locator("input[name=reason]").first.fill("invoice checked")
    row.locator("button.accept").click()
    page.wait_for_selector("#no-proposals")
    assert page.locator("#emissions-total").inner_text().startswith("6.250")
    shot(page, "41-filing-proposal-accepted")
