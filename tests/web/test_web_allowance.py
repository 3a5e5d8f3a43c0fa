"""``/api/v1/allowance`` and the position page's trade form: roles, refused input leaving
the account unchanged, versions with who and when, and what a share grant does not open."""

from __future__ import annotations

from typing import Any

import pytest

from tansuan.store import users
from tests.web import insights_data as planted
from tests.web.conftest import Deployment, csrf_of
from tests.web.demo import PASSWORD

SITE = {"site": "demo-site", "year": 2024}
SALE = {"date": "2024-06-01", "side": "sell", "instrument": "CEA", "quantity": 400, "price": 70}


@pytest.fixture
def planted_deployment(deployment: Deployment) -> Deployment:
    planted.plant_holdings(deployment.store)
    planted.plant_emissions(deployment.store)
    with deployment.store.write() as conn:
        users.add_user(conn, org="demo-group", username="emma", password=PASSWORD,
                       role="energy_manager")  # fmt: skip
    return deployment


def _account(d: Deployment) -> dict[str, Any]:
    response = d.client("alice").get("/api/v1/allowance", params=SITE)
    assert response.status_code == 200, response.text
    return response.json()


def test_trades_by_role_with_who_and_when(planted_deployment: Deployment) -> None:
    """Planted: allocation 10 000 t + 500 t bought → CEA 10 500 t. Emma (energy manager)
    sells 400 t → 10 100 t; the position's shortfall grows by 400 t."""
    d = planted_deployment
    before = d.client("alice").get("/api/v1/position", params=SITE).json()["position"]
    olga = d.client("olga").post("/api/v1/allowance/trades", params=SITE, json=SALE)
    assert olga.status_code == 403  # an operator reads but does not trade
    sold = d.client("emma").post("/api/v1/allowance/trades", params=SITE, json=SALE)
    assert sold.status_code == 201, sold.text
    body = sold.json()
    assert body["holdings"]["cea_t"] == pytest.approx(10_100)
    new = next(t for t in body["trades"] if t["id"] == body["trade_id"])
    assert new["entered_by"] == "user:emma" and new["leaf_index"] is not None
    after = d.client("alice").get("/api/v1/position", params=SITE).json()["position"]
    assert after["shortfall"] == pytest.approx(before["shortfall"] + 400)
    cancelled = d.client("alice").post(
        f"/api/v1/allowance/trades/{body['trade_id']}/cancel", params={"site": "demo-site"}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["holdings"]["cea_t"] == pytest.approx(10_500)
    gone = next(t for t in cancelled.json()["trades"] if t["id"] == body["trade_id"])
    assert gone["cancelled_by"] == "user:alice"


def test_refused_changes_leave_the_account_unchanged(planted_deployment: Deployment) -> None:
    d = planted_deployment
    alice = d.client("alice")
    before = _account(d)
    too_much = alice.post("/api/v1/allowance/trades", params=SITE, json=SALE | {"quantity": 10_501})
    assert too_much.status_code == 400 and "more CEA sold than held" in too_much.text
    wrong = alice.post("/api/v1/allowance/trades", params=SITE,
                       json=SALE | {"instrument": "EUA", "date": "yesterday"})  # fmt: skip
    assert wrong.status_code == 422
    assert {"instrument", "date"} <= {i["path"] for i in wrong.json()["issues"]}
    negative = alice.post("/api/v1/allowance/values", params=SITE, json={"verified": -1})
    assert negative.status_code == 400
    missing = alice.post("/api/v1/allowance/trades", params={"site": "demo-site", "year": 2030},
                         json=SALE)  # fmt: skip
    assert missing.status_code == 404
    assert _account(d) == before


def test_verified_emissions_make_a_new_version(planted_deployment: Deployment) -> None:
    """Verified 11 000 t against CEA 10 500 t (no CCER): shortfall 500 t, P = 1."""
    d = planted_deployment
    saved = d.client("emma").post("/api/v1/allowance/values", params=SITE,
                                  json={"verified": 11_000})  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert [(v["version"], v["changed_by"]) for v in saved.json()["versions"]] == [
        (2, "user:emma"), (1, "test")
    ]  # fmt: skip
    position = d.client("alice").get("/api/v1/position", params=SITE).json()
    assert position["emissions_basis"] == "verified"
    assert position["position"]["shortfall"] == pytest.approx(500)
    assert position["position"]["shortfall_probability"] == 1.0


def test_a_grant_opens_the_position_but_not_the_account(planted_deployment: Deployment) -> None:
    d = planted_deployment
    grant = d.client("alice").post(
        "/api/v1/grants",
        json={"site": "demo-site", "classes": ["monthly"], "grantee_org": "verify-co",
              "window_from": "2019-01-01T00:00:00Z", "window_to": "2030-01-01T00:00:00Z",
              "expires_at": "2030-01-01T00:00:00Z"},
    )  # fmt: skip
    assert grant.status_code == 201
    vera = d.client("vera")
    assert vera.get("/api/v1/position", params=SITE).status_code == 200
    assert vera.get("/api/v1/allowance", params=SITE).status_code == 404
    assert vera.post("/api/v1/allowance/trades", params=SITE, json=SALE).status_code == 403


def test_the_position_page_lists_trades_and_adds_one(planted_deployment: Deployment) -> None:
    d = planted_deployment
    emma = d.client("emma")
    page = emma.get("/insights/position", params=SITE)
    assert page.status_code == 200
    assert 'id="trades"' in page.text and 'id="trade-form"' in page.text
    form = {"site": "demo-site", "year": "2024", "csrf": csrf_of(emma), "date": "2024-07-01",
            "side": "buy", "instrument": "CCER", "quantity": "250", "price": "42",
            "note": "broker X"}  # fmt: skip
    added = emma.post("/insights/position/trade", data=form, follow_redirects=False)
    assert added.status_code == 303
    page = emma.get("/insights/position", params=SITE).text
    assert "broker X" in page and "user:emma" in page
    refused = emma.post("/insights/position/trade", data=form | {"quantity": "lots"})
    assert refused.status_code == 400 and "lots" in refused.text
    olga_page = d.client("olga").get("/insights/position", params=SITE).text
    assert 'id="trades"' in olga_page and 'id="trade-form"' not in olga_page
    assert "cancel-trade" not in olga_page and 'id="values-form"' not in olga_page
    trades = _account(d)["trades"]
    assert len(trades) == 2
    # cancel the new trade, record verified emissions (an empty field is left as it is)
    mine = next(t for t in trades if t["note"] == "broker X")
    token = {"site": "demo-site", "year": "2024", "csrf": csrf_of(emma)}
    gone = emma.post(f"/insights/position/trade/{mine['id']}/cancel", data=token,
                     follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    saved = emma.post("/insights/position/values", data=token | {"verified": "11000",
                      "allocation": "", "banked": ""}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    bad = emma.post("/insights/position/values", data=token | {"banked": "-2"})
    assert bad.status_code == 400
    account = _account(d)
    assert next(t for t in account["trades"] if t["id"] == mine["id"])["cancelled_by"] == (
        "user:emma"
    )
    assert (account["verified_t"], account["allocation_entered_t"], account["version"]) == (
        11_000, 10_000, 2
    )  # fmt: skip
