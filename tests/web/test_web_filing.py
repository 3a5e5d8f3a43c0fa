"""``/api/v1/filing`` and ``/api/v1/proposals``: the four-eyes workflow over HTTP, on the
two-tenant deployment (real app, SQLite and PostgreSQL)."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from tansuan.accounting import filing, results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.ledger.log import Ledger
from tansuan.store import users
from tansuan.store.schema.ledger import ledger_leaves
from tests.web.conftest import Deployment
from tests.web.demo import PASSWORD

SOURCE = "grid-power"


def _people(deployment: Deployment) -> None:
    with deployment.store.write() as conn:
        for name, role in (("lin", "carbon_accountant"), ("zhao", "approver")):
            users.add_user(conn, org="demo-group", username=name, password=PASSWORD, role=role)


def _set(month: str, kwh: float, co2e_g: int) -> ResultSet:
    return ResultSet(
        site_id="demo-site", source_id=SOURCE, period=month, method="electricity",
        lines=(ResultLine("CO2", "2-location", co2e_g, co2e_g),), inputs={"kwh": kwh},
        trace={"formula": "electricity"}, grade="A", coverage=1.0, substituted_share=0.0,
    )  # fmt: skip


def _save(deployment: Deployment, result: ResultSet, by: str | None = None) -> None:
    ledger = Ledger.from_data_dir(deployment.app.state.settings.data_dir)
    with deployment.store.write() as conn:
        who = None if by is None else users.user(conn, users.user_id_by_name(conn, by))
        results.save(conn, result, hooks=[filing.proposal_hook(ledger, who)])


def _leaves(deployment: Deployment, kind: str) -> list[dict[str, object]]:
    with deployment.store.read() as conn:
        rows = conn.execute(
            sa.select(ledger_leaves.c.payload)
            .where(ledger_leaves.c.kind == kind)
            .order_by(ledger_leaves.c.leaf_index)
        )
        return [orjson.loads(p) for (p,) in rows]


def test_file_propose_accept_over_the_api(deployment: Deployment) -> None:
    """Filed: 10,000 kWh → 5.000 t. Proposed by lin: 12,500 kWh → 6.250 t (+1.250 t).
    lin may not accept (role), alice (admin, not the proposer) may but zhao does."""
    _people(deployment)
    month = deployment.built["month"]
    _save(deployment, _set(month, 10_000, 5_000_000), by="lin")  # supersedes the engine's
    lin, zhao, olga = (deployment.client(u) for u in ("lin", "zhao", "olga"))
    body = {"site": "demo-site", "period": month}
    assert olga.post("/api/v1/filing/file", json=body).status_code == 403
    done = lin.post("/api/v1/filing/file", json=body | {"reason": "monthly filing"})
    assert done.status_code == 200, done.text
    [filed] = done.json()["periods"]
    assert [s[:2] for s in filed["sets"]] == [[SOURCE, 2]]
    again = lin.post("/api/v1/filing/file", json=body)
    assert again.status_code == 400 and "already filed" in again.text

    _save(deployment, _set(month, 12_500, 6_250_000), by="lin")
    listed = zhao.get("/api/v1/proposals", params={"site": "demo-site"})
    assert listed.status_code == 200, listed.text
    [proposal] = listed.json()["proposals"]
    assert (proposal["current_version"], proposal["version"]) == (2, 3)
    assert (proposal["current_co2e_t"], proposal["co2e_t"], proposal["difference_t"]) == (
        5.0,
        6.25,
        1.25,
    )
    assert listed.json()["filed"][0]["filed_by"] == "lin"
    url = f"/api/v1/proposals/{proposal['id']}"
    refused = lin.post(f"{url}/accept", json={})
    assert refused.status_code == 403 and "may not accept" in refused.text
    assert zhao.post(f"{url}/reject", json={"reason": ""}).status_code == 400  # needs a reason
    accepted = zhao.post(f"{url}/accept", json={"reason": "invoice checked"})
    assert accepted.status_code == 200, accepted.text
    assert zhao.get("/api/v1/proposals", params={"site": "demo-site"}).json()["proposals"] == []
    assert zhao.post(f"{url}/accept", json={}).status_code == 400  # no longer a proposal

    steps = [(x["action"], x["by"]) for x in _leaves(deployment, "proposal")]
    assert steps == [("propose", "lin"), ("accept", "zhao")]
    assert [(x["action"], x["by"]) for x in _leaves(deployment, "filing")] == [("file", "lin")]


def test_four_eyes_other_tenants_and_csrf(deployment: Deployment) -> None:
    """The admin who proposed may not decide; another organisation's admin sees no such
    proposal or site (404); a session write without the CSRF token is refused."""
    _people(deployment)
    month = deployment.built["month"]
    _save(deployment, _set(month, 10_000, 5_000_000))
    alice, bob, zhao = (deployment.client(u) for u in ("alice", "bob", "zhao"))
    body = {"site": "demo-site", "period": month}
    assert bob.post("/api/v1/filing/file", json=body).status_code == 404
    assert alice.post("/api/v1/filing/file", json=body).status_code == 200
    _save(deployment, _set(month, 12_500, 6_250_000), by="alice")
    [proposal] = zhao.get("/api/v1/proposals", params={"site": "demo-site"}).json()["proposals"]
    url = f"/api/v1/proposals/{proposal['id']}"
    own = alice.post(f"{url}/accept", json={})
    assert own.status_code == 403 and "four eyes" in own.text
    assert bob.post(f"{url}/reject", json={"reason": "x"}).status_code == 404
    assert bob.get("/api/v1/proposals", params={"site": "demo-site"}).status_code == 404
    del zhao.headers["X-CSRF-Token"]
    assert zhao.post(f"{url}/reject", json={"reason": "x"}).status_code == 403
    reopen = deployment.client("zhao").post(
        "/api/v1/filing/reopen", json=body | {"reason": "late invoice"}
    )
    assert reopen.status_code == 200, reopen.text
    assert [x["action"] for x in _leaves(deployment, "filing")] == ["file", "reopen"]


def test_filing_panel_and_forms(deployment: Deployment) -> None:
    """The emissions page loads the panel; an approver sees Accept/Reject, an accountant
    the File form only; the forms need the CSRF token; a refused step shows its message."""
    _people(deployment)
    month = deployment.built["month"]
    _save(deployment, _set(month, 10_000, 5_000_000))
    lin, zhao = deployment.client("lin"), deployment.client("zhao")
    page = lin.get("/emissions", params={"node": "demo-site", "period": month})
    assert 'hx-get="/ui/filing?site=demo-site' in page.text
    panel = lin.get("/ui/filing", params={"site": "demo-site", "period": month}).text
    assert 'id="file-button"' in panel and 'id="reopen-button"' not in panel
    csrf = lin.headers["X-CSRF-Token"]
    form = {"site": "demo-site", "period": month, "reason": "", "csrf": csrf}
    assert lin.post("/ui/filing/file", data=form | {"csrf": "wrong"}).status_code == 403
    done = lin.post("/ui/filing/file", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/emissions?node=demo-site&period={month}#filing"
    _save(deployment, _set(month, 12_500, 6_250_000), by="lin")
    panel = zhao.get("/ui/filing", params={"site": "demo-site", "period": month}).text
    assert 'class="accept"' in panel and 'id="file-button"' not in panel
    assert "6.250" in panel and "+1.250" in panel
    [proposal] = zhao.get("/api/v1/proposals", params={"site": "demo-site"}).json()["proposals"]
    refused = lin.post(
        f"/ui/proposals/{proposal['id']}/accept",
        data={"csrf": csrf, "reason": ""},
        headers={"accept": "text/html"},
    )
    assert refused.status_code == 403 and "may not accept proposals" in refused.text
    decided = zhao.post(
        f"/ui/proposals/{proposal['id']}/reject",
        data={"csrf": zhao.headers["X-CSRF-Token"], "reason": "meter misread", "period": month},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    panel = zhao.get("/ui/filing", params={"site": "demo-site"}).text
    assert 'id="no-proposals"' in panel
    other = deployment.client("bob").get("/ui/filing", params={"site": "demo-site"})
    assert other.status_code == 200 and "filing-panel" not in other.text
