"""Tenants never see each other's data: every API route, discovered from the app, is
called by a user of another organisation with the first organisation's identifiers."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tansuan.ingest import manual
from tansuan.store.schema import result_sets
from tansuan.web.deps import ledger_of
from tests.web.conftest import Deployment

#: Identifiers of the demo-group tenant that must never appear in bob's answers.
SECRETS = ("demo-site", "demo-group", "fan-001", "alice", "olga", "grid-power")

#: Routes whose answer is about the caller themself, or not about any tenant's data
#: (the ledger's tree head and consistency proofs are hashes of the whole log, public by
#: design as in Certificate Transparency; manual-data templates are the same for all).
#: They may answer 2xx, but must not contain any of SECRETS.
NEUTRAL = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/sites"),
    ("GET", "/api/v1/grants"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/ledger/sth"),
    ("GET", "/api/v1/ledger/size"),
    ("GET", "/api/v1/ledger/proof/consistency"),
    ("GET", "/api/v1/manual-data/templates/{kind}"),
    ("GET", "/api/v1/workbench"),  # the caller's own sites and grants
}


def _identifiers(deployment: Deployment) -> dict[str, Any]:
    alice = deployment.client("alice")
    grant = alice.post(
        "/api/v1/grants",
        json={"site": "demo-site", "classes": ["hourly"], "grantee_org": "verify-co",
              "window_from": "2020-01-01T00:00:00Z", "window_to": "2030-01-01T00:00:00Z",
              "expires_at": "2030-01-01T00:00:00Z"},
    )  # fmt: skip
    assert grant.status_code == 201, grant.text
    with deployment.store.read() as conn:
        set_id = conn.execute(select(result_sets.c.id)).scalars().first()
        token_id = alice.post("/api/v1/tokens", json={"name": "a", "scopes": ["read"]}).json()["id"]
    # --- an allowance account with a trade, made through alice's API ---
    made = alice.post("/api/v1/allowance/values", params={"site": "demo-site", "year": 2022},
                      json={"entity": "demo-site", "price": 80, "allocation": 1000})  # fmt: skip
    assert made.status_code == 200, made.text
    traded = alice.post("/api/v1/allowance/trades", params={"site": "demo-site", "year": 2022},
                        json=TRADE)  # fmt: skip
    assert traded.status_code == 201, traded.text
    # --- an evidence file of demo-site (issue 16) ---
    pdf = {"file": ("a.pdf", b"%PDF-1.7\n%%EOF", "application/pdf")}
    attached = alice.post("/api/v1/sites/demo-site/evidence", data=EVIDENCE_TARGET, files=pdf)
    assert attached.status_code == 201, attached.text
    with deployment.store.write() as conn:
        ledger_of(deployment.app).issue_sth(conn)
    workbench = _workbench_ids(deployment)
    # --- a background import job of demo-group (issue 17): any file above the threshold ---
    settings = deployment.app.state.settings
    threshold, settings.upload_job_threshold_rows = settings.upload_job_threshold_rows, 0
    csv = "site,series,period_start,period_end,value,unit\ndemo-site,oil-invoices,2026-01,,1,t\n"
    job = alice.post(
        "/api/v1/manual-data",
        data={"kind": "fuel"},
        files={"file": ("j.csv", csv.encode(), "text/csv")},
    )
    settings.upload_job_threshold_rows = threshold
    assert job.status_code == 202, job.text
    return {
        "job_id": job.json()["id"],
        "evidence_id": attached.json()["id"],
        **workbench,
        "trade_id": traded.json()["trade_id"],
        "site": "demo-site",
        "point": "fan-001.power",
        "device": "fan-001",
        "set_id": set_id,
        "proposal_id": set_id,
        "grant_id": grant.json()["id"],
        "token_id": token_id,
        "kind": "fuel",
    }


EVIDENCE_TARGET = {"target_kind": "source_month", "target_ref": "grid-power/2026-10"}
TRADE = {"date": "2022-03-01", "side": "buy", "instrument": "CEA", "quantity": 10, "price": 60}


def _workbench_ids(deployment: Deployment) -> dict[str, Any]:
    """vera (verify-co, under the grant above) raises a request and a finding; alice
    answers the request with a PDF."""
    vera, alice = deployment.client("vera"), deployment.client("alice")
    month = deployment.built["month"]
    asked = {"site": "demo-site", "period": month, "text": "lab report"}
    raised = vera.post("/api/v1/workbench/requests", json=asked)
    assert raised.status_code == 201, raised.text
    request_id = raised.json()["id"]
    finding = vera.post("/api/v1/workbench/findings", json={
        "site": "demo-site", "period": month, "severity": "minor", "text": "x"})  # fmt: skip
    assert finding.status_code == 201, finding.text
    pdf = {"file": ("lab.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    answered = alice.post(f"/api/v1/workbench/requests/{request_id}/attachment", files=pdf)
    assert answered.status_code == 200, answered.text
    evidence_id = int(answered.json()["ref"].rsplit("/", 1)[1])
    return {"request_id": request_id, "finding_id": finding.json()["id"],
            "evidence_id": evidence_id}  # fmt: skip


#: A well-formed statement for demo-site (bob's sign-off must fail on access, not on form).
STATEMENT = (
    '{"at":"2026-11-18T02:30:00+00:00","open_findings":0,"opinion":"x","period":"2025",'
    '"root_hash":"' + "ab" * 32 + '","site":"demo-site","tree_size":1}'
)


def _workbench_body(path: str, method: str, deployment: Deployment) -> dict[str, Any] | None:
    """Bodies of the workbench's writes, well formed, naming demo-group's site and ids."""
    month = deployment.built["month"]
    if path == "/api/v1/workbench/requests" and method == "POST":
        return {"json": {"site": "demo-site", "period": month, "text": "x"}}
    if path == "/api/v1/workbench/requests/{request_id}/answer":
        return {"json": {"kind": "note", "text": "x"}}
    if path == "/api/v1/workbench/requests/{request_id}/attachment":
        return {"files": {"file": ("x.pdf", b"%PDF-1.4\n", "application/pdf")}}
    if path == "/api/v1/workbench/findings" and method == "POST":
        return {"json": {"site": "demo-site", "period": month, "severity": "minor", "text": "x"}}
    if path == "/api/v1/workbench/findings/{finding_id}/respond":
        return {"json": {"text": "x"}}
    if path == "/api/v1/grants/{grant_id}/verifier-key":
        return {
            "json": {
                "public_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
            }
        }
    if path == "/api/v1/workbench/signoffs":
        return {"json": {"site": "demo-site", "period": "2025", "statement": STATEMENT,
                         "signature": "00" * 64}}  # fmt: skip
    return None


def _query(path: str, method: str, deployment: Deployment) -> dict[str, Any]:
    if path == "/api/v1/workbench/signoff/draft":
        return {"site": "demo-site", "period": "2025", "opinion": "x"}
    if path == "/api/v1/emissions":
        return {"node": "demo-site", "period": deployment.built["month"]}
    if path == "/api/v1/reports/{kind}":
        return {"site": "demo-site", "year": int(deployment.built["month"][:4])}
    # --- insights: the same site, with every required parameter ---
    if path == "/api/v1/position/holdings":
        return {"site": "demo-site"}
    if path.startswith("/api/v1/allowance"):
        return {"site": "demo-site", "year": 2022}
    if path in ("/api/v1/forecast", "/api/v1/position", "/api/v1/alerts"):
        return {"site": "demo-site", "year": int(deployment.built["month"][:4])}
    if path == "/api/v1/findings":
        return {"site": "demo-site", "tariff": 0.8, "factor": 0.5}
    if path == "/api/v1/enpi":
        return {"site": "demo-site"}
    if path == "/api/v1/savings":
        return {"site": "demo-site", "node": "fan-001", "intervention": "2025-07-01"}
    if path == "/api/v1/proposals":
        return {"site": "demo-site"}
    if path == "/api/v1/ledger/proof/inclusion":
        return {"leaf": 0}  # the grant leaf of demo-group
    if path == "/api/v1/ledger/proof/consistency":
        return {"first": 1, "second": 1}
    return {}


def _body(path: str, method: str, deployment: Deployment) -> dict[str, Any]:
    workbench = _workbench_body(path, method, deployment)
    if workbench is not None:
        return workbench
    if path == "/api/v1/readings":
        return {"json": {"site": "demo-site", "point": ["fan-001.power"],
                         "ts": [deployment.now.isoformat()], "value": [1.0]}}  # fmt: skip
    if path == "/api/v1/manual-data":
        csv = (
            "site,series,period_start,period_end,value,unit\n"
            "demo-site,oil-invoices,2026-01-01,2026-01-31,1,t\n"
        )
        return {"files": {"file": ("x.csv", csv.encode(), "text/csv")}}
    if path == "/api/v1/sites/{site}/evidence" and method == "POST":
        return {"data": EVIDENCE_TARGET,
                "files": {"file": ("b.pdf", b"%PDF-1.7\n%%EOF", "application/pdf")}}  # fmt: skip
    if path == "/api/v1/grants" and method == "POST":
        return {"json": {"site": "demo-site", "classes": ["raw"], "grantee_org": "other-group",
                         "window_from": "2020-01-01T00:00:00Z", "window_to": "2030-01-01T00:00:00Z",
                         "expires_at": "2030-01-01T00:00:00Z"}}  # fmt: skip
    if path == "/api/v1/position/holdings":
        yaml = "entity: x\nyear: 2024\nprice: 1\nallocation: 1\nrules: {ccer_cap: 0.05}\n"
        return {"files": {"file": ("h.yaml", yaml.encode(), "application/yaml")}}
    if path == "/api/v1/allowance/trades":
        return {"json": TRADE}
    if path == "/api/v1/allowance/values":
        return {"json": {"verified": 5}}
    if path.startswith("/api/v1/filing/"):
        return {"json": {"site": "demo-site", "period": deployment.built["month"], "reason": "x"}}
    if path.startswith("/api/v1/proposals/"):
        return {"json": {"reason": "x"}}
    if path == "/api/v1/users" and method == "POST":
        return {"json": {"username": "bob2", "password": "another long one", "role": "operator"}}
    if path == "/api/v1/tokens" and method == "POST":
        return {"json": {"name": "bobs", "scopes": ["read"]}}
    return {}


def test_every_api_route_refuses_another_tenant(deployment: Deployment) -> None:
    ids = _identifiers(deployment)
    bob = deployment.client("bob")
    routes = [
        (method.upper(), path)
        for path, item in deployment.app.openapi()["paths"].items()
        for method in item
        if path.startswith("/api/")
    ]
    assert len(routes) >= 20, routes  # the discovery found the app's routes
    checked = []
    for method, template in routes:
        names = {**ids, "kind": "annual"} if template.startswith("/api/v1/reports/") else ids
        path = re.sub(r"\{(\w+)\}", lambda m, names=names: str(names[m.group(1)]), template)
        response = bob.request(
            method,
            path,
            params=_query(template, method, deployment),
            **_body(template, method, deployment),
        )
        if template == "/api/v1/manual-data/templates/{kind}":
            # The same fixed text for everyone (its example rows name the demo site).
            assert response.text == manual.template(ids["kind"])
        elif (method, template) in NEUTRAL:
            assert response.status_code < 500, (method, template, response.text)
            leaked = [s for s in SECRETS if s in response.text]
            assert not leaked, (method, template, leaked)
        else:
            assert response.status_code in (403, 404), (method, template, response.status_code,
                                                         response.text[:300])  # fmt: skip
        checked.append((method, template, response.status_code))
    assert ("GET", "/api/v1/sites/{site}/points/{point}/series", 404) in checked
    # bob's writes to alice's account changed nothing: one version, one trade
    account = deployment.client("alice").get("/api/v1/allowance", params={"site": "demo-site"})
    assert [v["version"] for v in account.json()["versions"]] == [1]
    assert [(t["quantity_t"], t["cancelled_at"]) for t in account.json()["trades"]] == [(10, None)]


def test_the_owner_reads_the_same_routes(deployment: Deployment) -> None:
    """Control for the test above: the routes do answer their own tenant."""
    alice = deployment.client("alice")
    assert alice.get("/api/v1/sites/demo-site/tree").status_code == 200
    series = alice.get("/api/v1/sites/demo-site/points/fan-001.power/series?resolution=raw")
    assert series.status_code == 200 and len(series.json()["items"]) == 60
    live = alice.get("/api/v1/sites/demo-site/devices/fan-001/live").json()
    assert {v["point"] for v in live["values"]} == {"fan-001.power", "fan-001.energy"}
    emissions = alice.get(
        "/api/v1/emissions", params={"node": "demo-site", "period": deployment.built["month"]}
    )
    assert emissions.status_code == 200
    assert emissions.json()["total_co2e_t"] > 0
    quality = alice.get("/api/v1/sites/demo-site/quality")
    assert quality.status_code == 200
    assert alice.get("/api/v1/sites/other-site/tree").status_code == 404


def test_quality_lists_rejected_readings(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    body = {"site": "demo-site", "point": ["fan-001.power"], "ts": [deployment.now.isoformat()],
            "value": [500.0], "unit": "kW"}  # fmt: skip
    assert alice.post("/api/v1/readings", json=body).json()["rejected"] == 1
    report = alice.get("/api/v1/sites/demo-site/quality").json()
    assert [(r["reason"], r["rows"]) for r in report["rejected_24h"]] == [("out_of_range", 1)]
    stale = {p["point"]: p["stale"] for p in report["points"]["items"]}
    assert stale["fan-001.power"] is False and stale["boiler-1.oil"] is True


def test_quality_page_lists_gateway_connections(deployment: Deployment) -> None:
    deployment.app.state.gateway_status = lambda: [
        {"name": "stack-logger", "protocol": "hj212", "site": "demo-site", "connected": False,
         "last_seen": None, "last_error": "CRC mismatch"},
        {"name": "their-bus", "protocol": "modbus", "site": "other-site", "connected": True},
    ]  # fmt: skip
    page = deployment.client("alice").get("/quality/demo-site", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "stack-logger" in page.text and "CRC mismatch" in page.text
    assert "their-bus" not in page.text
