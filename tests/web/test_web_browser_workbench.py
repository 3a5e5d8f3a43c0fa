"""The verifier's workbench end to end in headless Chromium against a real server: vera
(verifier, under a grant of demo-site's November 2025) raises a request; alice (the
plant's admin) answers it with a PDF; vera sees the file, closes the request, records a
major finding; alice responds; vera closes it; alice registers vera's public key; vera
prepares the statement, signs it with her own key (as ``tansuan signoff sign`` does) and
signs the year off. Screenshots in test-output/screenshots/ (50-…)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tansuan.ledger import signoff
from tansuan.ledger.log import Ledger
from tansuan.ledger.schema import leaves
from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.browser import ARGS, require_chromium, serve, shot
from tests.web.demo import PASSWORD, build
from tests.web.workbench_setup import MONTH, VERA_KEY, make_grants, public_hex

#: What alice uploads: a PDF (the evidence store checks the magic ``%PDF-``).
LAB_REPORT = b"%PDF-1.4\n% coal lab report, November 2025\n%%EOF\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser-workbench")
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    build(store, FROZEN_NOW.astimezone(dt.UTC))
    ledger = Ledger.from_data_dir(settings.data_dir)
    make_grants(store, ledger)
    report = folder / "lab-coal-2025-11.pdf"
    report.write_bytes(LAB_REPORT)
    app = create_app(settings, store=store)
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield {"base": base, "browser": browser, "store": store, "ledger": ledger,
                   "report": report}  # fmt: skip
        finally:
            browser.close()
    store.close()


def _login(site: dict[str, Any], username: str, lang: str) -> Any:
    context = site["browser"].new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "tansuan_lang", "value": lang, "url": site["base"]}])
    page = context.new_page()
    page.goto(site["base"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/overview")
    return page


def _workbench(site: dict[str, Any], page: Any) -> None:
    page.goto(f"{site['base']}/workbench?site=demo-site")
    page.wait_for_selector("#site-demo-site")


def test_request_answer_finding_and_sign_off_in_the_browser(site: dict[str, Any]) -> None:
    vera = _login(site, "vera", "zh-CN")
    _workbench(site, vera)
    assert "核查工作台" in vera.locator("h1").inner_text()
    assert vera.locator(".wb-month").all_inner_texts() == [MONTH]
    vera.fill(".raise-form input[name=subject]", "coal")
    vera.fill(".raise-form input[name=text]", "provide the lab report for coal, November")
    vera.click(".raise-form .raise-button")
    vera.wait_for_selector("tr.wb-request[data-status=open]")
    assert "待处理" in vera.locator("tr.wb-request").inner_text()
    shot(vera, "50-workbench-request-raised")

    alice = _login(site, "alice", "en")
    _workbench(site, alice)
    row = alice.locator("tr.wb-request").first
    assert "Open" in row.inner_text() and "lab report for coal" in row.inner_text()
    row.locator("select[name=kind]").select_option("attachment")
    row.locator("input[type=file]").set_input_files(str(site["report"]))
    row.locator("input[name=text]").fill("accredited lab, batch 11")
    row.locator(".answer-button").click()
    alice.wait_for_selector("tr.wb-request[data-status=answered]")
    assert "Answered" in alice.locator("tr.wb-request").inner_text()
    shot(alice, "51-workbench-request-answered")

    _workbench(site, vera)
    row = vera.locator("tr.wb-request[data-status=answered]")
    assert "已答复" in row.inner_text()
    link = row.locator(".evidence a")
    assert link.inner_text() == "lab-coal-2025-11.pdf"
    got = vera.request.get(site["base"] + str(link.get_attribute("href")))
    assert got.status == 200 and got.body() == LAB_REPORT
    row.locator("input[name=text]").fill("report seen")
    row.locator(".close-request").click()
    vera.wait_for_selector("tr.wb-request[data-status=closed]")
    vera.fill(".finding-form input[name=period]", MONTH)
    vera.select_option(".finding-form select[name=severity]", "major")
    vera.fill(".finding-form input[name=text]", "NCV sampled monthly, not per batch")
    vera.click(".finding-form .record-button")
    vera.wait_for_selector("tr.wb-finding[data-status=open][data-severity=major]")
    shot(vera, "52-workbench-finding-recorded")

    _workbench(site, alice)
    finding = alice.locator("tr.wb-finding").first
    finding.locator("input[name=text]").fill("sampling per batch from December")
    finding.locator(".respond-button").click()
    alice.wait_for_selector("tr.wb-finding[data-status=responded]")
    alice.fill("#grant-keys input[name=public_key]", public_hex(VERA_KEY))
    alice.click("#grant-keys .key-button")
    alice.wait_for_selector(f"#grant-keys code:has-text('{public_hex(VERA_KEY)[:16]}')")

    _workbench(site, vera)
    finding = vera.locator("tr.wb-finding[data-status=responded]")
    assert "sampling per batch" in finding.inner_text()
    finding.locator(".close-finding").click()
    vera.wait_for_selector("tr.wb-finding[data-status=closed]")
    vera.fill(".draft-form input[name=draft_period]", "2025")
    vera.fill(".draft-form input[name=opinion]", "fairly stated / 公允反映")
    vera.click(".draft-form .draft-button")
    vera.wait_for_selector("#statement")
    assert vera.locator("#major-open").count() == 0
    statement = vera.locator("#statement").inner_text()
    fields = json.loads(statement)
    assert (fields["site"], fields["period"], fields["open_findings"]) == ("demo-site", "2025", 0)
    # The verifier signs on their own machine (tansuan signoff sign does exactly this).
    signed = signoff.sign(VERA_KEY, statement)
    vera.fill("#signature", signed["signature"])
    shot(vera, "53-workbench-statement-to-sign")
    vera.click("#signoff-button")
    vera.wait_for_selector("tr.wb-signoff")
    assert "vera" in vera.locator("tr.wb-signoff").inner_text()
    shot(vera, "54-workbench-signed-off")

    _workbench(site, alice)
    assert "vera" in alice.locator("tr.wb-signoff").inner_text()
    with site["store"].read() as conn:
        kinds = conn.execute(
            select(leaves.c.kind, leaves.c.ref).where(leaves.c.kind.in_(
                ("verifier_request", "verifier_finding", "grant_key", "signoff", "evidence")))
            .order_by(leaves.c.leaf_index)
        ).all()  # fmt: skip
    assert [k for k, _ in kinds] == [
        "verifier_request",  # raise
        "evidence",  # the PDF
        "verifier_request",  # answer
        "verifier_request",  # close
        "verifier_finding",  # record
        "verifier_finding",  # respond
        "grant_key",
        "verifier_finding",  # close
        "signoff",
    ]


def test_a_refused_sign_off_shows_why_and_stores_nothing(site: dict[str, Any]) -> None:
    """A signature by another key: the page says it does not verify (409), in English."""
    vera = _login(site, "vera", "en")
    page_url = (f"{site['base']}/workbench?site=demo-site&draft_period={MONTH}"
                "&opinion=ok")  # fmt: skip
    vera.goto(page_url)
    vera.wait_for_selector("#statement")
    before = vera.locator("tr.wb-signoff").count()
    other = signoff.sign(
        signoff.load_key(_other_key(site)), vera.locator("#statement").inner_text()
    )
    vera.fill("#signature", other["signature"])
    vera.click("#signoff-button")
    vera.wait_for_selector("text=does not verify")
    vera.goto(f"{site['base']}/workbench?site=demo-site")
    assert vera.locator("tr.wb-signoff").count() == before


def _other_key(site: dict[str, Any]) -> Path:
    path = Path(str(site["report"])).with_name("other.pem")
    if not path.exists():
        signoff.new_key(path)
    return path
