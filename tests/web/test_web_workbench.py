"""The verifier's workbench over the API: requests, findings, the verifier's key and sign-off
under a share grant; every step a leaf; refused steps are 4xx and change nothing; a
verifier of another grant sees nothing.

Set-up (tests/web/workbench_setup.py): vera (verify-co) holds a grant of demo-site for
November 2025; victor (audit-two) holds a grant of other-site only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tansuan.ledger import signoff
from tansuan.ledger.schema import leaves
from tansuan.store.schema import verifier_finding, verifier_request, verifier_signoff
from tansuan.web.deps import ledger_of
from tests.web.conftest import Deployment
from tests.web.workbench_setup import MONTH, OTHER_KEY, VERA_KEY, make_grants, public_hex


@pytest.fixture
def bench(deployment: Deployment) -> Iterator[dict[str, Any]]:
    clients = {name: deployment.client(name) for name in ("alice", "olga", "bob", "vera")}
    ledger = ledger_of(deployment.app)
    granted = make_grants(deployment.store, ledger)
    clients["victor"] = deployment.client("victor")
    yield {"c": clients, "grants": granted, "ledger": ledger, "store": deployment.store}


def _count(bench: dict[str, Any], table: Any) -> int:
    with bench["store"].read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _kinds(bench: dict[str, Any]) -> list[tuple[str, str]]:
    with bench["store"].read() as conn:
        rows = conn.execute(
            select(leaves.c.kind, leaves.c.ref)
            .where(leaves.c.kind.in_(("verifier_request", "verifier_finding", "grant_key",
                                      "signoff")))
            .order_by(leaves.c.leaf_index)
        )  # fmt: skip
        return [(r.kind, r.ref) for r in rows]


def _raise(bench: dict[str, Any], text: str = "provide the lab report for coal, May") -> int:
    r = bench["c"]["vera"].post("/api/v1/workbench/requests",
                                json={"site": "demo-site", "period": MONTH,
                                      "subject": "grid-power", "text": text})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _draft(bench: dict[str, Any], period: str = "2025", opinion: str = "fairly stated") -> str:
    r = bench["c"]["vera"].get("/api/v1/workbench/signoff/draft",
                               params={"site": "demo-site", "period": period,
                                       "opinion": opinion})  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["statement"])


def _register(bench: dict[str, Any], key: Any = VERA_KEY) -> None:
    grant = bench["grants"]["vera"]
    r = bench["c"]["alice"].put(f"/api/v1/grants/{grant}/verifier-key",
                                json={"public_key": public_hex(key)})  # fmt: skip
    assert r.status_code == 200, r.text


def test_request_answer_close_each_a_leaf_and_the_plant_sees_the_status(bench: dict) -> None:
    """raise → open; alice's note → answered; vera closes → closed: three leaves, in order."""
    c = bench["c"]
    request_id = _raise(bench)
    plant = c["alice"].get("/api/v1/workbench", params={"site": "demo-site"}).json()
    (site,) = plant["sites"]
    assert site["side"] == "plant"
    assert [(r["id"], r["status"]) for r in site["requests"]] == [(request_id, "open")]
    r = c["alice"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                        json={"kind": "note", "text": "uploaded to the lab folder"})  # fmt: skip
    assert r.status_code == 200, r.text
    reply = r.json()["reply"]
    seen = c["vera"].get(f"/api/v1/workbench/requests/{request_id}").json()
    assert seen["status"] == "answered"
    assert [x["text"] for x in seen["replies"]] == ["uploaded to the lab folder"]
    r = c["vera"].post(f"/api/v1/workbench/requests/{request_id}/close", json={"text": "ok"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    plant = c["alice"].get("/api/v1/workbench", params={"site": "demo-site"}).json()
    assert plant["sites"][0]["requests"][0]["status"] == "closed"
    assert _kinds(bench) == [
        ("verifier_request", f"request/{request_id}/raise"),
        ("verifier_request", f"request/{request_id}/answer/{reply}"),
        ("verifier_request", f"request/{request_id}/close"),
    ]


def test_refused_request_steps_are_4xx_and_change_nothing(bench: dict) -> None:
    c = bench["c"]
    request_id = _raise(bench)
    before = (_count(bench, verifier_request), _kinds(bench))
    cases = [
        # a month outside the grant's window (November 2025 only)
        (c["vera"].post("/api/v1/workbench/requests", json={
            "site": "demo-site", "period": "2025-10", "text": "x"}), 403),
        (c["vera"].post("/api/v1/workbench/requests", json={
            "site": "demo-site", "period": "2025-13", "text": "x"}), 400),
        (c["vera"].post("/api/v1/workbench/requests", json={
            "site": "demo-site", "period": MONTH, "text": "  "}), 400),
        # the plant does not raise requests; the operator does not answer them
        (c["alice"].post("/api/v1/workbench/requests", json={
            "site": "demo-site", "period": MONTH, "text": "x"}), 403),
        (c["olga"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                        json={"kind": "note", "text": "x"}), 403),
        # the verifier does not answer; a made-up kind; a correction without a proposal
        (c["vera"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                        json={"kind": "note", "text": "x"}), 404),
        (c["alice"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                         json={"kind": "shrug", "text": "x"}), 400),
        (c["alice"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                         json={"kind": "correction", "proposal_id": 999}), 404),
        (c["alice"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                         json={"kind": "attachment"}), 400),
        # the plant does not close; another organisation does not see it
        (c["alice"].post(f"/api/v1/workbench/requests/{request_id}/close"), 403),
        (c["bob"].post(f"/api/v1/workbench/requests/{request_id}/answer",
                       json={"kind": "note", "text": "x"}), 404),
    ]  # fmt: skip
    assert [(r.status_code, want) for r, want in cases] == [(want, want) for _, want in cases]
    assert (_count(bench, verifier_request), _kinds(bench)) == before


def test_a_verifier_of_another_grant_sees_nothing(bench: dict) -> None:
    c = bench["c"]
    request_id = _raise(bench)
    finding = c["vera"].post("/api/v1/workbench/findings", json={
        "site": "demo-site", "period": MONTH, "severity": "minor", "text": "x"})  # fmt: skip
    finding = finding.json()["id"]
    victor = c["victor"].get("/api/v1/workbench").json()
    assert [(s["site"], s["side"], s["requests"], s["findings"]) for s in victor["sites"]] == [
        ("other-site", "verifier", [], [])
    ]
    assert c["victor"].get(f"/api/v1/workbench/requests/{request_id}").status_code == 404
    assert c["victor"].get(f"/api/v1/workbench/findings/{finding}").status_code == 404
    assert c["victor"].post(f"/api/v1/workbench/requests/{request_id}/close").status_code == 404
    assert c["victor"].post(f"/api/v1/workbench/findings/{finding}/close").status_code == 404
    assert c["victor"].get("/api/v1/workbench", params={"site": "demo-site"}).status_code == 404
    assert c["victor"].post("/api/v1/workbench/requests", json={
        "site": "demo-site", "period": MONTH, "text": "x"}).status_code == 404  # fmt: skip
    # vera sees her grant's site and its one month, with what she raised.
    vera = c["vera"].get("/api/v1/workbench").json()
    assert [(s["site"], s["months"], len(s["requests"])) for s in vera["sites"]] == [
        ("demo-site", [MONTH], 1)
    ]


def test_findings_block_sign_off_while_major_and_sign_off_checks_the_key(bench: dict) -> None:
    """A major finding open: refused. After it is responded to and closed, one minor
    finding stays open, so the statement must count open_findings = 1. A wrong key or
    no key: refused. The right one: a ``signoff`` leaf with the documented payload."""
    c = bench["c"]
    major = c["vera"].post("/api/v1/workbench/findings", json={
        "site": "demo-site", "period": MONTH, "severity": "major",
        "text": "coal NCV not measured per batch"}).json()["id"]  # fmt: skip
    c["vera"].post("/api/v1/workbench/findings", json={
        "site": "demo-site", "period": "2025", "severity": "minor", "text": "labels"})  # fmt: skip
    huge = c["vera"].post("/api/v1/workbench/findings", json={
        "site": "demo-site", "period": MONTH, "severity": "huge", "text": "x"})  # fmt: skip
    assert huge.status_code == 400
    draft = c["vera"].get("/api/v1/workbench/signoff/draft", params={
        "site": "demo-site", "period": "2025", "opinion": "ok"}).json()  # fmt: skip
    assert draft["major_open"] == [major]
    statement = draft["statement"]
    signed = signoff.sign(VERA_KEY, statement)
    body = {"site": "demo-site", "period": "2025", "statement": statement,
            "signature": signed["signature"]}  # fmt: skip
    # No key registered yet.
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body)
    assert r.status_code == 400 and "no verifier public key" in r.json()["detail"], r.text
    _register(bench)
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body)
    assert r.status_code == 400 and "major findings are open" in r.json()["detail"], r.text
    assert f"#{major}" in r.json()["detail"]
    assert c["alice"].post(f"/api/v1/workbench/findings/{major}/respond",
                           json={"text": "now sampled per batch"}).status_code == 200  # fmt: skip
    assert c["alice"].post(f"/api/v1/workbench/findings/{major}/close").status_code == 403
    assert c["vera"].post(f"/api/v1/workbench/findings/{major}/close",
                          json={"text": "evidence seen"}).status_code == 200  # fmt: skip
    # The old statement counted 2 open findings; 1 is open now.
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body)
    assert r.status_code == 400 and "counts 2 open findings; 1 are open" in r.json()["detail"]
    statement = _draft(bench)
    assert signoff.parse_statement(statement)["open_findings"] == 1
    wrong = signoff.sign(OTHER_KEY, statement)["signature"]
    before = (_count(bench, verifier_signoff), _kinds(bench))
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body | {
        "statement": statement, "signature": wrong})  # fmt: skip
    assert r.status_code == 409 and "does not verify" in r.json()["detail"], r.text
    # A statement for another period, or edited after signing: refused too.
    good = signoff.sign(VERA_KEY, statement)["signature"]
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body | {
        "period": MONTH, "statement": statement, "signature": good})  # fmt: skip
    assert r.status_code == 400, r.text
    edited = statement.replace('"opinion":"fairly stated"', '"opinion":"fairly stated!"')
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body | {
        "statement": edited, "signature": good})  # fmt: skip
    assert r.status_code == 409, r.text
    assert (_count(bench, verifier_signoff), _kinds(bench)) == before
    r = c["vera"].post("/api/v1/workbench/signoffs", json=body | {
        "statement": statement, "signature": good})  # fmt: skip
    assert r.status_code == 201, r.text
    done = r.json()
    with bench["store"].read() as conn:
        leaf = bench["ledger"].leaf(conn, done["leaf_index"])
    assert (leaf.kind, leaf.ref) == ("signoff", f"signoff/demo-site/2025/{done['id']}")
    assert json.loads(leaf.payload) == {
        "id": done["id"], "site": "demo-site", "period": "2025", "verifier": "vera",
        "grant_id": bench["grants"]["vera"], "public_key": public_hex(VERA_KEY),
        "statement": statement, "signature": good,
    }  # fmt: skip
    assert signoff.signature_ok(public_hex(VERA_KEY), statement, good)
    plant = c["alice"].get("/api/v1/workbench", params={"site": "demo-site"}).json()
    assert [s["verifier"] for s in plant["sites"][0]["signoffs"]] == ["vera"]
    assert _count(bench, verifier_finding) == 2


def test_only_the_grantor_admin_registers_a_valid_key(bench: dict) -> None:
    c, grant = bench["c"], bench["grants"]["vera"]
    url = f"/api/v1/grants/{grant}/verifier-key"
    key = {"public_key": public_hex(VERA_KEY)}
    assert c["bob"].put(url, json=key).status_code == 404
    assert c["vera"].put(url, json=key).status_code == 403
    assert c["olga"].put(url, json=key).status_code == 403
    assert c["alice"].put(url, json={"public_key": "00" * 31}).status_code == 400
    assert _kinds(bench) == []
    assert c["alice"].put(url, json=key).status_code == 200
    assert _kinds(bench) == [("grant_key", f"grant/{grant}/verifier_key")]


#: A minimal PDF: what the evidence store checks is the magic ``%PDF-``.
LAB_REPORT = b"%PDF-1.4\n% coal lab report, November 2025\n%%EOF\n"


def test_an_attachment_answers_the_request_and_the_verifier_downloads_it(bench: dict) -> None:
    c = bench["c"]
    request_id = _raise(bench)
    url = f"/api/v1/workbench/requests/{request_id}/attachment"
    before = (_count(bench, verifier_request), _kinds(bench))
    # Wrong type or bytes not matching the declared type: 415 (the evidence store), not the
    # plant: 403; nothing stored.
    bad = [
        c["alice"].post(url, files={"file": ("r.txt", b"hello", "text/plain")}),
        c["alice"].post(url, files={"file": ("r.pdf", b"GIF89a...", "application/pdf")}),
        c["olga"].post(url, files={"file": ("r.pdf", LAB_REPORT, "application/pdf")}),
    ]
    assert [r.status_code for r in bad] == [415, 415, 403], [r.text for r in bad]
    assert (_count(bench, verifier_request), _kinds(bench)) == before
    upload = {"file": ("lab-coal-2025-11.pdf", LAB_REPORT, "application/pdf")}
    r = c["alice"].post(url, files=upload, data={"text": "lab report"})
    assert r.status_code == 200, r.text
    assert r.json()["ref"].startswith("evidence/demo-site/")
    seen = c["vera"].get(f"/api/v1/workbench/requests/{request_id}").json()
    assert seen["status"] == "answered"
    (item,) = seen["evidence"]
    assert (item["filename"], item["size_bytes"]) == ("lab-coal-2025-11.pdf", len(LAB_REPORT))
    got = c["vera"].get(f"/api/v1/workbench/requests/{request_id}/evidence/{item['id']}")
    assert got.status_code == 200 and got.content == LAB_REPORT
    assert (
        c["victor"]
        .get(f"/api/v1/workbench/requests/{request_id}/evidence/{item['id']}")
        .status_code
        == 404
    )
    kinds = [k for k, _ in _kinds(bench)]
    assert kinds == ["verifier_request", "verifier_request"]
    with bench["store"].read() as conn:
        logged = conn.execute(select(leaves.c.ref).where(leaves.c.kind == "evidence")).scalars()
        assert list(logged) == [f"evidence/demo-site/{item['id']}"]
