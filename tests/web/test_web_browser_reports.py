"""The emissions page's report download in headless Chromium: the page's language, the
chosen format's own file (no .zip), the site's layout (issue 18 items 11 and 14)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tansuan.ledger.verify import verify_receipt
from tansuan.reports.receipt import resolve
from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.browser import ARGS, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser-reports")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    built = build(store, FROZEN_NOW.astimezone(dt.UTC))
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser, "built": built, "folder": folder}
        finally:
            browser.close()
    store.close()


def _page(site: dict[str, Any], lang: str) -> Any:
    context = site["browser"].new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True
    )
    context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    year = site["built"]["month"][:4]
    page.goto(f"{site['base']}/emissions?node=demo-site&period={year}")
    return page


def _download(page: Any, kind: str, fmt: str, folder: Path) -> Path:
    page.select_option("#report-form select[name=kind]", kind)
    page.select_option("#report-form select[name=fmt]", fmt)
    with page.expect_download() as download:
        page.click("#report-download")
    name = download.value.suggested_filename
    path = folder / name
    download.value.save_as(path)
    return path


@pytest.mark.parametrize(
    ("lang", "title", "guideline"),
    [
        ("zh-CN", "年度温室气体排放报告", "工业其他行业企业温室气体排放核算方法与报告指南"),
        ("en", "Greenhouse-gas emission report", "other industrial enterprises"),
    ],
)
def test_the_download_is_in_the_pages_language_format_and_layout(
    site: dict[str, Any], lang: str, title: str, guideline: str
) -> None:
    page = _page(site, lang)
    shot(page, f"reports-emissions-{lang}")
    # the form says which guideline the annual report follows: the site's sector's
    assert guideline in page.locator("#report-guideline").inner_text()
    folder = site["folder"] / lang
    folder.mkdir(exist_ok=True)
    issued = _download(page, "annual", "html", folder)
    assert issued.suffix == ".html"
    text = issued.read_text("utf-8")
    assert f'<html lang="{lang}">' in text and title in text
    # demo-site has no sector: the generic layout of the general guideline, never power's
    assert guideline in text and "485号" not in text
    workbook = _download(page, "inventory", "xlsx", folder)
    assert workbook.suffix == ".xlsx"  # the workbook itself, not a .zip
    sheets = openpyxl.load_workbook(workbook)
    year = site["built"]["month"][:4]
    first = next(sheets["report"].iter_rows(max_row=1, values_only=True))[0]
    assert first == (
        f"{year} 温室气体清单" if lang == "zh-CN" else f"Greenhouse-gas inventory {year}"
    )
    receipt, content, findings = resolve(workbook)
    assert findings == [] and verify_receipt(receipt, document=content).ok
    assert receipt["tree_size"] >= 2
