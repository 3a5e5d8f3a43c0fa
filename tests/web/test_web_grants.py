"""Share grants: a verifier sees exactly and only what was granted; every read is logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from tansuan.ledger.schema import leaves
from tansuan.store.schema import grant_read, share_grant
from tansuan.web.deps import ledger_of
from tests.web.conftest import Deployment, csrf_of


def _grant(deployment: Deployment, **fields: object) -> int:
    alice = deployment.client("alice")
    now = deployment.now
    body = {
        "site": "demo-site",
        "node": "hull-shop",
        "classes": ["raw", "hourly"],
        "grantee_org": "verify-co",
        "window_from": (now - dt.timedelta(hours=2)).isoformat(),
        "window_to": (now + dt.timedelta(hours=1)).isoformat(),
        "expires_at": (now + dt.timedelta(days=1)).isoformat(),
    }
    body.update(fields)
    response = alice.post("/api/v1/grants", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _count(deployment: Deployment, table: object, *where: object) -> int:
    with deployment.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())  # type: ignore[arg-type]


def test_verifier_sees_only_the_granted_subtree_classes_and_window(deployment: Deployment) -> None:
    vera = deployment.client("vera")
    assert vera.get("/api/v1/sites").json()["items"] == []
    assert vera.get("/api/v1/sites/demo-site/tree").status_code == 404
    grant_id = _grant(deployment)

    sites = vera.get("/api/v1/sites").json()["items"]
    assert [(s["site"], s["own"]) for s in sites] == [("demo-site", False)]
    tree = vera.get("/api/v1/sites/demo-site/tree").json()
    text = str(tree)
    assert "fan-001" in text and "boiler-1" not in text and "grid-meter" not in text

    hour = vera.get("/api/v1/sites/demo-site/points/fan-001.power/series?resolution=raw")
    assert hour.status_code == 200 and len(hour.json()["items"]) == 60
    # Outside the subtree, the class, or the window: refused.
    assert vera.get("/api/v1/sites/demo-site/points/grid.energy/series").status_code == 403
    assert (
        vera.get("/api/v1/sites/demo-site/points/fan-001.power/series?resolution=month").status_code
        == 403
    )
    old = {"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z", "resolution": "hour"}
    assert (
        vera.get("/api/v1/sites/demo-site/points/fan-001.power/series", params=old).status_code
        == 403
    )
    assert vera.get("/api/v1/sites/other-site/tree").status_code == 404
    assert vera.get("/api/v1/sites/demo-site/devices/boiler-1/live").status_code == 403
    assert (
        vera.get("/api/v1/emissions", params={"node": "demo-site", "period": "2025"}).status_code
        == 403
    )
    assert vera.get("/api/v1/grants").json()["items"][0]["direction"] == "received"

    # Two reads were granted (tree does not count as data; the raw series did): each is in
    # the audit table and in the ledger as a grant_read leaf.
    reads = _count(deployment, grant_read, grant_read.c.grant_id == grant_id)
    assert reads == 1
    assert _count(deployment, leaves, leaves.c.kind == "grant_read") == 1
    assert _count(deployment, leaves, leaves.c.kind == "grant") == 1

    # Revoked: refused at once, and the revocation is in the ledger.
    alice = deployment.client("alice")
    assert alice.delete(f"/api/v1/grants/{grant_id}").status_code == 200
    assert vera.get("/api/v1/sites/demo-site/points/fan-001.power/series").status_code == 404
    assert _count(deployment, leaves, leaves.c.kind == "grant_revocation") == 1
    audit = alice.get(f"/api/v1/grants/{grant_id}/reads").json()["items"]
    assert [r["username"] for r in audit] == ["vera"]


def test_monthly_grant_opens_emissions_and_traces(deployment: Deployment) -> None:
    month = deployment.built["month"]
    start = dt.datetime.fromisoformat(month + "-01T00:00:00+08:00")
    _grant(deployment, node="", classes=["monthly"], window_from=start.isoformat(),
           window_to=(start + dt.timedelta(days=40)).isoformat())  # fmt: skip
    vera = deployment.client("vera")
    answer = vera.get("/api/v1/emissions", params={"node": "demo-site", "period": month})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # 27 days x 2000 kWh = 54 MWh at the 2023-2025 national grid factor 0.5703 tCO2/MWh.
    assert abs(body["total_co2e_t"] - 54 * 0.5703) < 1e-6
    set_id = body["results"][0]["result_set"]
    assert vera.get(f"/api/v1/results/{set_id}/trace").status_code == 200
    # Not the year (its months outside the window), not raw data.
    assert (
        vera.get("/api/v1/emissions", params={"node": "demo-site", "period": month[:4]}).status_code
        == 403
    )
    assert vera.get("/api/v1/sites/demo-site/points/fan-001.power/series").status_code == 403


def test_expired_grant_is_not_in_force(deployment: Deployment) -> None:
    grant_id = _grant(deployment)
    with deployment.store.write() as conn:
        from tansuan.store.schema import share_grant

        conn.execute(
            share_grant.update().where(share_grant.c.id == grant_id).values(expires_at_us=1)
        )
    vera = deployment.client("vera")
    assert vera.get("/api/v1/sites/demo-site/tree").status_code == 404


def test_grant_to_own_org_or_someone_elses_site_is_refused(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    base = {"classes": ["raw"], "window_from": "2020-01-01T00:00:00Z",
            "window_to": "2030-01-01T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"}  # fmt: skip
    own = alice.post(
        "/api/v1/grants", json={**base, "site": "demo-site", "grantee_org": "demo-group"}
    )
    assert own.status_code == 400
    theirs = alice.post(
        "/api/v1/grants", json={**base, "site": "other-site", "grantee_org": "verify-co"}
    )
    assert theirs.status_code == 404
    bad = alice.post("/api/v1/grants", json={**base, "site": "demo-site", "classes": ["everything"],
                                             "grantee_org": "verify-co"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["field"] == "classes"


def test_ledger_endpoints(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    assert alice.get("/api/v1/ledger/sth").status_code == 404  # none issued yet
    _grant(deployment)
    with deployment.store.write() as conn:
        ledger_of(deployment.app).issue_sth(conn)
    sth = alice.get("/api/v1/ledger/sth").json()
    assert sth["tree_size"] == 1
    proof = alice.get("/api/v1/ledger/proof/inclusion", params={"leaf": 0})
    assert proof.status_code == 200 and proof.json()["tree_size"] == 1
    assert (
        deployment.client("bob")
        .get("/api/v1/ledger/proof/inclusion", params={"leaf": 0})
        .status_code
        == 404
    )
    assert (
        alice.get("/api/v1/ledger/proof/consistency", params={"first": 1, "second": 1}).status_code
        == 200
    )


def test_etag_and_pagination(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    first = alice.get("/api/v1/sites/demo-site/tree")
    tag = first.headers["etag"]
    assert (
        alice.get("/api/v1/sites/demo-site/tree", headers={"If-None-Match": tag}).status_code == 304
    )
    page = alice.get("/api/v1/sites", params={"limit": 1}).json()
    assert (
        page["total"] == 1
        and page["next_offset"] is None
        and page["items"][0]["site"] == "demo-site"
    )
    users = alice.get("/api/v1/users", params={"limit": 1}).json()
    assert users["total"] == 2 and users["next_offset"] == 1


def test_trace_outside_the_grant_window_is_refused(deployment: Deployment) -> None:
    # A monthly grant whose window is this year: last year's result and its trace stay shut.
    _grant(deployment, node="", classes=["monthly"])
    vera = deployment.client("vera")
    with deployment.store.read() as conn:
        from tansuan.store.schema import result_sets

        set_id = conn.execute(select(result_sets.c.id)).scalar()
    assert vera.get(f"/api/v1/results/{set_id}/trace").status_code == 403


def test_ledger_page_verifies_a_receipt(deployment: Deployment) -> None:
    import json

    from tansuan.ledger import api

    _grant(deployment)
    with deployment.store.write() as conn:
        receipt = api.receipt_for(ledger_of(deployment.app), conn, 0)
    alice = deployment.client("alice")
    csrf = alice.headers["X-CSRF-Token"]
    good = alice.post("/ledger/verify", data={"receipt": json.dumps(receipt), "csrf": csrf})
    assert good.status_code == 200 and 'id="verify-result" class="good"' in good.text
    receipt["leaf_data"] = receipt["leaf_data"][:-4] + "AAA="
    bad = alice.post("/ledger/verify", data={"receipt": json.dumps(receipt), "csrf": csrf})
    assert bad.status_code == 200 and 'id="verify-result" class="bad"' in bad.text


def test_annual_grant_gives_the_year_total_only(deployment: Deployment) -> None:
    year = deployment.built["month"][:4]
    _grant(deployment, node="", classes=["annual"], window_from=f"{year}-01-01T00:00:00+08:00",
           window_to=f"{int(year) + 1}-01-01T00:00:00+08:00")  # fmt: skip
    vera = deployment.client("vera")
    answer = vera.get("/api/v1/emissions", params={"node": "demo-site", "period": year})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert abs(body["total_co2e_t"] - 54 * 0.5703) < 1e-6
    assert body["results"] == [] and body["traces"] == {}
    month = deployment.built["month"]
    assert (
        vera.get("/api/v1/emissions", params={"node": "demo-site", "period": month}).status_code
        == 403
    )


def test_reports_are_issued_to_the_owner_and_under_a_reports_grant(
    deployment: Deployment,
) -> None:
    """Issuing appends a 'report' leaf; a verifier needs a grant of class 'reports'."""
    year = deployment.built["month"][:4]
    query = {"site": "demo-site", "year": year, "format": "html", "lang": "en"}

    def reports_logged() -> int:
        return _count(deployment, leaves, leaves.c.kind == "report")

    alice = deployment.client("alice")
    answer = alice.post("/api/v1/reports/inventory", params=query,
                        headers={"x-csrf-token": csrf_of(alice)})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert "tansuan-receipt-v1" in answer.text
    assert reports_logged() == 1

    vera = deployment.client("vera")
    assert vera.post("/api/v1/reports/inventory", params=query).status_code in (403, 404)
    _grant(deployment, node="", classes=["reports"], window_from=f"{year}-01-01T00:00:00+08:00",
           window_to=f"{int(year) + 1}-01-01T00:00:00+08:00")  # fmt: skip
    reads = _count(deployment, grant_read)
    granted = vera.post("/api/v1/reports/inventory", params={**query, "format": "xlsx"})
    assert granted.status_code == 200, granted.text
    assert granted.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert granted.content.startswith(b"PK\x03\x04")  # the workbook itself, receipt inside
    assert reports_logged() == 2
    assert _count(deployment, grant_read) == reads + 1
    # The same grant does not open monthly data.
    assert vera.get("/api/v1/emissions",
                    params={"node": "demo-site", "period": deployment.built["month"]}
                    ).status_code == 403  # fmt: skip


def test_emissions_say_whether_the_period_is_provisional(deployment: Deployment) -> None:
    """The clock is frozen at 2026-11-18 (tests/conftest.py): 2026 is not complete, the
    planted month a year before the deployment's hour is."""
    alice = deployment.client("alice")
    month = deployment.built["month"]
    done = alice.get("/api/v1/emissions", params={"node": "demo-site", "period": month})
    assert done.status_code == 200, done.text
    assert done.json()["provisional"] is False and done.json()["provisional_reason"] is None
    under_way = alice.get("/api/v1/emissions", params={"node": "demo-site", "period": "2026"})
    assert under_way.status_code == 200, under_way.text
    assert under_way.json()["provisional"] is True
    assert "临时数据" in under_way.json()["provisional_reason"]


def test_a_grant_to_an_unknown_organisation_is_refused_and_nothing_stored(
    deployment: Deployment,
) -> None:
    alice = deployment.client("alice")
    now = deployment.now
    body = {"site": "demo-site", "node": "", "classes": ["raw"], "grantee_org": "no-such-org",
            "window_from": (now - dt.timedelta(hours=2)).isoformat(),
            "window_to": (now + dt.timedelta(hours=1)).isoformat(),
            "expires_at": (now + dt.timedelta(days=1)).isoformat()}  # fmt: skip
    before = (_count(deployment, share_grant), _count(deployment, leaves))
    refused = alice.post("/api/v1/grants", json=body)
    assert refused.status_code == 404, refused.text
    assert "no-such-org" in refused.json()["detail"]
    assert (_count(deployment, share_grant), _count(deployment, leaves)) == before
    assert alice.post("/api/v1/grants", json=body | {"grantee_org": "verify-co"}).status_code == 201


def test_ids_beyond_64_bits_are_refused_not_a_500(deployment: Deployment) -> None:
    """Every integer id in a path or query is bounded (2**63 - 1): 404 or 422, never 500."""
    alice = deployment.client("alice")
    huge = 2**64 + 5
    for method, url in (
        ("DELETE", f"/api/v1/grants/{huge}"),
        ("GET", f"/api/v1/grants/{huge}/reads"),
        ("GET", f"/api/v1/results/{huge}/trace"),
        ("GET", f"/api/v1/ledger/proof/inclusion?leaf={huge}"),
        ("GET", f"/api/v1/ledger/proof/consistency?first=1&second={huge}"),
        ("DELETE", f"/api/v1/tokens/{huge}"),
        ("GET", f"/api/v1/grants?offset={huge}"),
        ("POST", f"/api/v1/proposals/{huge}/accept"),
        ("GET", f"/api/v1/workbench/findings/{huge}"),
        ("POST", f"/admin/grants/{huge}/revoke"),
    ):
        answer = alice.request(method, url)
        assert answer.status_code in (404, 422), (method, url, answer.status_code)


def test_every_integer_path_or_query_parameter_is_bounded(deployment: Deployment) -> None:
    """The sweep: no route takes an unbounded int from the path or the API's query."""
    import annotated_types
    from fastapi.routing import APIRoute

    from tansuan.web.deps import MAX_ID

    def routes(items: Any) -> Any:
        for route in items:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):
                yield from routes(route.original_router.routes)

    def params(dependant: Any) -> Any:
        yield from (("path", p) for p in dependant.path_params)
        yield from (("query", p) for p in dependant.query_params)
        for sub in dependant.dependencies:
            yield from params(sub)

    unbounded, seen = [], 0
    for route in routes(deployment.app.routes):
        for where, param in params(route.dependant):
            if "int" not in str(param.field_info.annotation):
                continue
            if where == "query" and not route.include_in_schema:
                continue  # page controls (year, days), checked by the page itself
            seen += 1
            bounds = [m.le for m in param.field_info.metadata if isinstance(m, annotated_types.Le)]
            if not bounds or bounds[0] > MAX_ID:
                unbounded.append(f"{route.path} {param.name}")
    assert seen > 30 and unbounded == []
