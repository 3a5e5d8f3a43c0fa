"""A failed or missing source-month is shown as such — API, emissions page, quality page —
with its reason and fix, and the total says it is incomplete (issue 15 item 1).

The deployment (tests/web/demo.py) has no oil invoices for ``boiler-oil``: accounting it
for a month records that month as ``missing`` (no activity data, no declared shutdown).
"""

from __future__ import annotations

import datetime as dt

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.problems import INCOMPLETE_REASON
from tests.web.conftest import Deployment
from tests.web.demo import ROOT


def _run(deployment: Deployment, month: str) -> None:
    from tansuan.site.validate import load

    store = deployment.store
    model = load(ROOT / "examples" / "site.yaml")
    report = Accountant(store, model).run("demo-site", parse_period(month), sources=["boiler-oil"])
    assert [r.state for r in report.computed] == ["missing"]


def test_api_lists_the_missing_month_with_its_reason(deployment: Deployment) -> None:
    month = deployment.built["month"]
    _run(deployment, month)
    alice = deployment.client("alice")
    body = alice.get("/api/v1/emissions", params={"node": "demo-site", "period": month}).json()
    (problem,) = body["problems"]
    assert (problem["source"], problem["month"], problem["state"]) == (
        "boiler-oil",
        month,
        "missing",
    )
    assert problem["co2e_t"] is None
    assert "no activity data" in problem["problem"] and "declare shutdown" in problem["fix"]
    assert (body["complete"], body["incomplete_reason"]) == (False, INCOMPLETE_REASON)
    # the computed grid month is still there, and the missing one adds nothing to the total
    assert {r["source"] for r in body["results"]} == {"grid-power"}
    assert body["total_co2e_t"] == sum(r["co2e_t"] for r in body["results"])


def test_emissions_page_shows_incomplete_and_the_month(deployment: Deployment) -> None:
    month = deployment.built["month"]
    _run(deployment, month)
    page = deployment.client("alice").get(
        "/emissions", params={"node": "demo-site", "period": month}
    )
    assert page.status_code == 200
    html = page.text
    assert 'id="emissions-incomplete"' in html and 'id="emission-problems"' in html
    # the problem in the page's language only (zh-CN by default)
    assert "boiler-oil" in html and "本月无活动数据" in html and "no activity data" not in html
    assert ("数据不完整，不可报送" in html) or ("Incomplete — not for submission" in html)


def test_quality_page_shows_the_missing_month(deployment: Deployment) -> None:
    """The quality page shows this month's results (frozen today: 2026-11-18)."""
    today = deployment.now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    _run(deployment, today.strftime("%Y-%m"))
    html = deployment.client("alice").get("/quality/demo-site").text
    assert 'class="problem-missing"' in html and "no activity data" in html


def test_a_complete_period_says_complete(deployment: Deployment) -> None:
    month = deployment.built["month"]
    body = (
        deployment.client("alice")
        .get("/api/v1/emissions", params={"node": "demo-site", "period": month})
        .json()
    )
    assert (body["problems"], body["complete"], body["incomplete_reason"]) == ([], True, None)


def test_overview_flags_this_month_as_incomplete(deployment: Deployment) -> None:
    """This month (frozen today: 2026-11) has a missing ``boiler-oil``: the overview's
    month figure says it is incomplete."""
    today = deployment.now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    _run(deployment, today.strftime("%Y-%m"))
    html = deployment.client("alice").get("/").text
    assert 'id="co2e-incomplete"' in html
