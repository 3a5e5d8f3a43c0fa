"""The verifier's workbench (核查工作台): requests, findings and sign-off under a share grant.

Two sides, one set of records:

* the **verifier** — a user with role ``verifier`` whose organisation (or who) holds an
  active share grant of a site — sees the granted site and the months of the grant's data
  window, raises **requests** on a site + month (optionally one source or series entry),
  records **findings** (不符合项) with a severity, closes both, and **signs a period
  off** with an Ed25519 key of their own whose public key the grantor registered on the
  grant (:mod:`tansuan.ledger.signoff`);
* the **plant** — a user of the site's own organisation with one of :data:`PLANT_ROLES` —
  sees every request and finding on its sites with its status, answers a request with an
  attachment (an evidence file), a correction (a pending proposal of the four-eyes
  workflow, :mod:`tansuan.accounting.filing`) or a note, and responds to findings.

Each step opens one transaction, writes its row and appends its ledger leaf (kinds
``verifier_request``, ``verifier_finding``, ``grant_key``, ``signoff``) in it; a refused
step changes nothing. A verifier sees only what was raised under a grant they hold: a
verifier of another grant sees nothing (the site is "not found" to them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa

from tansuan.accounting import filing
from tansuan.errors import InputError, NotFound, PermissionDenied, VerificationFailed
from tansuan.ledger import signoff
from tansuan.store import Store, evidence, grants, schema
from tansuan.store.grants import Grant, LedgerLike
from tansuan.store.schema import (
    share_grant,
    verifier_finding,
    verifier_reply,
    verifier_request,
    verifier_signoff,
)
from tansuan.store.schema.workbench import SEVERITIES
from tansuan.store.scoped import Scope
from tansuan.store.timeutil import from_us, to_us, zone
from tansuan.store.users import Principal, now_us

#: The roles that act for the verifier.
VERIFIERS = ("verifier",)
#: The plant's roles that answer requests and respond to findings.
PLANT_ROLES = ("admin", "energy_manager", "carbon_accountant", "approver")
#: At most this many months of a grant's window are listed.
MAX_MONTHS = 60
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

#: Attaches evidence to a request inside the caller's transaction, given the site and the
#: target ref ``request/<id>``; returns the evidence's ref (what the reply records).
#: Supplied by the web layer (:func:`attacher`).
Attach = Callable[[sa.Connection, str, str], str]


# --- who may act --------------------------------------------------------------------------


def _site_zone(conn: sa.Connection, site: str) -> str:
    e = schema.entity
    attrs = conn.execute(sa.select(e.c.attrs).where(e.c.kind == "site", e.c.key == site)).scalar()
    return str(orjson.loads(attrs or "{}").get("timezone", "Asia/Shanghai"))


def grant_months(conn: sa.Connection, grant: Grant) -> list[str]:
    """The months (site time) that the grant's data window ``[from, to)`` touches; the
    last :data:`MAX_MONTHS` of them for a longer window."""
    tz = zone(_site_zone(conn, grant.site))
    first = from_us(grant.window_from_us).astimezone(tz)
    last = from_us(grant.window_to_us - 1).astimezone(tz)
    months: list[str] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months[-MAX_MONTHS:]


def _in_grant(conn: sa.Connection, grant: Grant, period: str) -> bool:
    """Whether the period (a year or a month, site time) shares an instant with the
    grant's data window."""
    tz = zone(_site_zone(conn, grant.site))
    year = int(period[:4])
    if len(period) == 7:
        month = int(period[5:])
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    else:
        start, end = dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return to_us(start) < grant.window_to_us and grant.window_from_us < to_us(end)


def _verifier_grant(conn: sa.Connection, scope: Scope, site: str) -> Grant:
    """The caller's grant on ``site``; they must be a verifier holding one."""
    if scope.principal.role not in VERIFIERS:
        raise PermissionDenied(
            f"仅核查员可以执行 / only a verifier may do this ({scope.principal.username} is "
            f"{scope.principal.role})"
        )
    found = [g for g in scope.grants if g.site == site]
    if not found:
        raise NotFound(f"没有站点 / no site {site!r}")
    return found[0]


def _check_period(conn: sa.Connection, grant: Grant, period: str, *, month: bool) -> str:
    if month and not (isinstance(period, str) and _MONTH.fullmatch(period)):
        raise InputError(f"月份须为 YYYY-MM / the month must be YYYY-MM, not {period!r}",
                         field="period")  # fmt: skip
    signoff.check_period(period)
    if not _in_grant(conn, grant, period):
        raise PermissionDenied(
            f"期间 {period} 不在授权范围内 / the period {period} is outside grant {grant.id}"
        )
    return period


def _plant(conn: sa.Connection, by: Principal, site: str) -> None:
    """The caller must belong to ``site``'s organisation and have a plant role."""
    if grants.site_org(conn, site) != by.org:
        raise NotFound(f"没有站点 / no site {site!r}")
    if by.role not in PLANT_ROLES:
        raise PermissionDenied(
            f"{by.username}（{by.role}）不能答复核查员 / {by.username} ({by.role}) may not "
            f"answer the verifier: needs role {' or '.join(PLANT_ROLES)}"
        )


def _text(value: str, field: str, what_zh: str, what_en: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InputError(f"请填写{what_zh} / {what_en} must not be empty", field=field)
    return text


def _stamp(at_us: int) -> str:
    return from_us(at_us).isoformat()


# --- rows -----------------------------------------------------------------------------------


def _row(conn: sa.Connection, table: sa.Table, row_id: int, what: str) -> Any:
    row = conn.execute(sa.select(table).where(table.c.id == row_id)).first()
    if row is None:
        raise NotFound(f"没有该{what} / no {table.name.removeprefix('verifier_')} {row_id}")
    return row


def _visible(conn: sa.Connection, scope: Scope, row: Any, what: str) -> str:
    """'verifier' or 'plant': the side the caller sees ``row`` from; NotFound otherwise."""
    if grants.site_org(conn, row.site_key) == scope.org:
        return "plant"
    if row.grant_id in {g.id for g in scope.grants}:
        return "verifier"
    raise NotFound(f"没有该{what} / no {what} {row.id}")


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    inserted = conn.execute(table.insert().values(**values)).inserted_primary_key
    return int(inserted[0]) if inserted is not None else 0


def _replies(conn: sa.Connection, target_kind: str, ids: list[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    if not ids:
        return out
    r = verifier_reply
    for row in conn.execute(
        sa.select(r).where(r.c.target_kind == target_kind, r.c.target_id.in_(ids)).order_by(r.c.id)
    ):
        d = dict(row._mapping)
        d["at"] = _stamp(d.pop("at_us"))
        out.setdefault(int(row.target_id), []).append(d)
    return out


def _public(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["site"] = d.pop("site_key")
    d["raised_at"] = _stamp(d.pop("raised_at_us"))
    closed = d.pop("closed_at_us")
    d["closed_at"] = None if closed is None else _stamp(closed)
    return d


# --- requests -------------------------------------------------------------------------------


def raise_request(
    store: Store, ledger: LedgerLike, scope: Scope, *, site: str, period: str, subject: str,
    text: str,
) -> dict[str, Any]:  # fmt: skip
    """The verifier asks the plant for something about a site-month (and a source or a
    series entry, when ``subject`` names one)."""
    asked = _text(text, "text", "请求内容", "the request")
    with store.write() as conn:
        grant = _verifier_grant(conn, scope, site)
        _check_period(conn, grant, period, month=True)
        at = now_us()
        values = {"grant_id": grant.id, "site_key": site, "period": period,
                  "subject": (subject or "").strip(), "text": asked, "status": "open",
                  "raised_by": scope.principal.username, "raised_at_us": at}  # fmt: skip
        request_id = _insert(conn, verifier_request, **values)
        ledger.append(
            conn, "verifier_request", f"request/{request_id}/raise",
            {"action": "raise", "id": request_id, "grant_id": grant.id, "site": site,
             "period": period, "subject": values["subject"], "text": asked,
             "by": scope.principal.username, "at": _stamp(at)},
        )  # fmt: skip
        return _public(_row(conn, verifier_request, request_id, "请求"))


def answer_request(
    store: Store, ledger: LedgerLike, by: Principal, request_id: int, *, kind: str,
    text: str = "", proposal_id: int | None = None, attach: Attach | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The plant answers: ``attachment`` (``attach`` stores the file), ``correction`` (a
    pending proposal of the request's site and month) or ``note``."""
    if kind not in ("attachment", "correction", "note"):
        raise InputError(f"答复类型须为 attachment / correction / note / the answer must be "
                         f"attachment, correction or note, not {kind!r}", field="kind")  # fmt: skip
    note = (text or "").strip()
    if kind == "note":
        _text(note, "text", "答复内容", "a note")
    with store.write() as conn:
        row = _row(conn, verifier_request, request_id, "请求")
        _plant(conn, by, row.site_key)
        if row.status == "closed":
            raise InputError(f"请求 {request_id} 已关闭 / request {request_id} is closed",
                             field="id")  # fmt: skip
        ref: str | None = None
        if kind == "correction":
            ref = _correction(conn, row, proposal_id)
        elif kind == "attachment":
            if attach is None:
                raise InputError("请附上文件 / an attachment needs a file", field="file")
            ref = attach(conn, row.site_key, f"request/{request_id}")
        at = now_us()
        reply_id = _insert(conn, verifier_reply, target_kind="request", target_id=request_id,
                           kind=kind, text=note, ref=ref, by=by.username, at_us=at)  # fmt: skip
        conn.execute(
            verifier_request.update()
            .where(verifier_request.c.id == request_id)
            .values(status="answered")
        )
        ledger.append(
            conn, "verifier_request", f"request/{request_id}/answer/{reply_id}",
            {"action": "answer", "id": request_id, "reply": reply_id, "site": row.site_key,
             "period": row.period, "kind": kind, "text": note, "ref": ref,
             "by": by.username, "at": _stamp(at)},
        )  # fmt: skip
        return {"id": request_id, "reply": reply_id, "status": "answered", "kind": kind,
                "ref": ref}  # fmt: skip


def _correction(conn: sa.Connection, row: Any, proposal_id: int | None) -> str:
    """A correction is a pending proposal (a recalculation of the filed month) of the
    request's site and month; its reference is ``proposal/<result set id>``."""
    if proposal_id is None:
        raise InputError("更正须指明重算提议 / a correction names its proposal (proposal_id)",
                         field="proposal_id")  # fmt: skip
    found = filing.proposal(conn, proposal_id)
    if found.site_id != row.site_key or found.period != row.period:
        raise InputError(
            f"提议 {proposal_id} 属于 {found.site_id} {found.period}，不是本请求的站点与月份 / "
            f"proposal {proposal_id} is for {found.site_id} {found.period}, not "
            f"{row.site_key} {row.period}",
            field="proposal_id",
        )
    return f"proposal/{proposal_id}"


def close_request(
    store: Store, ledger: LedgerLike, scope: Scope, request_id: int, note: str = ""
) -> dict[str, Any]:
    """The verifier closes a request (answered or not)."""
    with store.write() as conn:
        row = _row(conn, verifier_request, request_id, "请求")
        _verifier_grant(conn, scope, row.site_key)
        if row.grant_id not in {g.id for g in scope.grants}:
            raise NotFound(f"没有该请求 / no request {request_id}")
        if row.status == "closed":
            raise InputError(f"请求 {request_id} 已关闭 / request {request_id} is already closed",
                             field="id")  # fmt: skip
        at = now_us()
        text = (note or "").strip()
        conn.execute(
            verifier_request.update().where(verifier_request.c.id == request_id)
            .values(status="closed", closed_by=scope.principal.username, closed_at_us=at,
                    close_note=text)
        )  # fmt: skip
        ledger.append(
            conn, "verifier_request", f"request/{request_id}/close",
            {"action": "close", "id": request_id, "site": row.site_key, "period": row.period,
             "note": text, "by": scope.principal.username, "at": _stamp(at)},
        )  # fmt: skip
        return _public(_row(conn, verifier_request, request_id, "请求"))


# --- findings -------------------------------------------------------------------------------


def record_finding(
    store: Store, ledger: LedgerLike, scope: Scope, *, site: str, period: str, severity: str,
    text: str,
) -> dict[str, Any]:  # fmt: skip
    """The verifier records a finding (不符合项) on a site and a year or month."""
    if severity not in SEVERITIES:
        raise InputError(
            f"严重程度须为 {' / '.join(SEVERITIES)} / severity must be one of "
            f"{', '.join(SEVERITIES)}, not {severity!r}",
            field="severity",
        )
    what = _text(text, "text", "不符合项内容", "the finding")
    with store.write() as conn:
        grant = _verifier_grant(conn, scope, site)
        _check_period(conn, grant, period, month=False)
        at = now_us()
        finding_id = _insert(conn, verifier_finding, grant_id=grant.id, site_key=site,
                             period=period, severity=severity, text=what, status="open",
                             raised_by=scope.principal.username, raised_at_us=at)  # fmt: skip
        ledger.append(
            conn, "verifier_finding", f"finding/{finding_id}/record",
            {"action": "record", "id": finding_id, "grant_id": grant.id, "site": site,
             "period": period, "severity": severity, "text": what,
             "by": scope.principal.username, "at": _stamp(at)},
        )  # fmt: skip
        return _public(_row(conn, verifier_finding, finding_id, "不符合项"))


def respond_finding(
    store: Store, ledger: LedgerLike, by: Principal, finding_id: int, text: str
) -> dict[str, Any]:
    """The plant responds to a finding (what it did about it)."""
    said = _text(text, "text", "回复内容", "the response")
    with store.write() as conn:
        row = _row(conn, verifier_finding, finding_id, "不符合项")
        _plant(conn, by, row.site_key)
        if row.status == "closed":
            raise InputError(f"不符合项 {finding_id} 已关闭 / finding {finding_id} is closed",
                             field="id")  # fmt: skip
        at = now_us()
        reply_id = _insert(conn, verifier_reply, target_kind="finding", target_id=finding_id,
                           kind="response", text=said, ref=None, by=by.username,
                           at_us=at)  # fmt: skip
        conn.execute(
            verifier_finding.update()
            .where(verifier_finding.c.id == finding_id)
            .values(status="responded")
        )
        ledger.append(
            conn, "verifier_finding", f"finding/{finding_id}/respond/{reply_id}",
            {"action": "respond", "id": finding_id, "reply": reply_id, "site": row.site_key,
             "period": row.period, "text": said, "by": by.username, "at": _stamp(at)},
        )  # fmt: skip
        return {"id": finding_id, "reply": reply_id, "status": "responded"}


def close_finding(
    store: Store, ledger: LedgerLike, scope: Scope, finding_id: int, note: str = ""
) -> dict[str, Any]:
    """The verifier closes a finding."""
    with store.write() as conn:
        row = _row(conn, verifier_finding, finding_id, "不符合项")
        _verifier_grant(conn, scope, row.site_key)
        if row.grant_id not in {g.id for g in scope.grants}:
            raise NotFound(f"没有该不符合项 / no finding {finding_id}")
        if row.status == "closed":
            raise InputError(f"不符合项 {finding_id} 已关闭 / finding {finding_id} is already "
                             "closed", field="id")  # fmt: skip
        at = now_us()
        text = (note or "").strip()
        conn.execute(
            verifier_finding.update().where(verifier_finding.c.id == finding_id)
            .values(status="closed", closed_by=scope.principal.username, closed_at_us=at,
                    close_note=text)
        )  # fmt: skip
        ledger.append(
            conn, "verifier_finding", f"finding/{finding_id}/close",
            {"action": "close", "id": finding_id, "site": row.site_key, "period": row.period,
             "severity": row.severity, "note": text, "by": scope.principal.username,
             "at": _stamp(at)},
        )  # fmt: skip
        return _public(_row(conn, verifier_finding, finding_id, "不符合项"))


def _overlaps(a: str, b: str) -> bool:
    """Whether two periods (YYYY or YYYY-MM) share a month."""
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def open_findings(conn: sa.Connection, grant_id: int, site: str, period: str) -> list[Any]:
    """Findings not closed, raised under ``grant_id`` on ``site`` for a period that shares a
    month with ``period``."""
    f = verifier_finding
    rows = conn.execute(
        sa.select(f).where(f.c.grant_id == grant_id, f.c.site_key == site, f.c.status != "closed")
        .order_by(f.c.id)
    ).all()  # fmt: skip
    return [r for r in rows if _overlaps(r.period, period)]


# --- the verifier's key and sign-off ---------------------------------------------------------


def register_key(
    store: Store, ledger: LedgerLike, by: Principal, grant_id: int, public_key: str
) -> dict[str, Any]:
    """The grantor's administrator registers the verifier's Ed25519 public key on a grant."""
    key = signoff.public_key_hex(public_key)
    if by.role != "admin" or not by.can("admin"):
        raise PermissionDenied("仅授权方管理员 / only the grantor's administrators")
    with store.write() as conn:
        g = share_grant
        row = conn.execute(
            sa.select(g.c.id, g.c.site_key, g.c.revoked_at_us)
            .where(g.c.id == grant_id, g.c.grantor_org == by.org)
        ).first()  # fmt: skip
        if row is None:
            raise NotFound(f"没有授权 / no grant {grant_id}")
        if row.revoked_at_us is not None:
            raise InputError(f"授权 {grant_id} 已撤销 / grant {grant_id} is revoked", field="id")
        conn.execute(g.update().where(g.c.id == grant_id).values(verifier_public_key=key))
        ledger.append(
            conn, "grant_key", f"grant/{grant_id}/verifier_key",
            {"grant_id": grant_id, "site": row.site_key, "public_key": key, "by": by.username,
             "at": _stamp(now_us())},
        )  # fmt: skip
    return {"grant_id": grant_id, "public_key": key}


def _registered_key(conn: sa.Connection, grant_id: int) -> str:
    key = conn.execute(
        sa.select(share_grant.c.verifier_public_key).where(share_grant.c.id == grant_id)
    ).scalar()
    if not key:
        raise InputError(
            f"授权 {grant_id} 尚未登记核查员公钥，请授权方管理员登记 / no verifier public key "
            f"is registered on grant {grant_id}: the grantor's administrator registers it "
            "(tansuan grant set-key, or the grants page)",
            field="public_key",
        )
    return str(key)


def _majors(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r.severity == "major"]


def draft(
    store: Store, ledger: Any, scope: Scope, *, site: str, period: str, opinion: str,
    at: dt.datetime,
) -> dict[str, Any]:  # fmt: skip
    """The statement the verifier would sign now: the ledger's current size and root, the
    count of open findings. Nothing is stored."""
    said = _text(opinion, "opinion", "核查意见", "the opinion")
    with store.read() as conn:
        grant = _verifier_grant(conn, scope, site)
        _check_period(conn, grant, period, month=False)
        size = ledger.tree_size(conn)
        root = ledger.root(conn, size).hex()
        still_open = open_findings(conn, grant.id, site, period)
    text = signoff.statement_text(site=site, period=period, tree_size=size, root_hash=root,
                                  opinion=said, open_findings=len(still_open),
                                  at=at.isoformat())  # fmt: skip
    return {"statement": text, "grant_id": grant.id,
            "major_open": [r.id for r in _majors(still_open)]}  # fmt: skip


def sign_off(
    store: Store, ledger: Any, scope: Scope, *, site: str, period: str, statement: str,
    signature: str,
) -> dict[str, Any]:  # fmt: skip
    """Store a sign-off after checking it: the statement names this site and period, its
    tree size and root are the ledger's, its count of open findings is right, no major
    finding is open, and the signature holds under the key registered on the grant."""
    fields = signoff.parse_statement(statement)
    if fields["site"] != site or fields["period"] != period:
        raise InputError(
            f"签署声明是 {fields['site']} {fields['period']} 的，不是 {site} {period} / the "
            f"statement is for {fields['site']} {fields['period']}, not {site} {period}",
            field="statement",
        )
    with store.write() as conn:
        grant = _verifier_grant(conn, scope, site)
        _check_period(conn, grant, period, month=False)
        key = _registered_key(conn, grant.id)
        if not signoff.signature_ok(key, statement, signature):
            raise VerificationFailed(
                f"签名与授权 {grant.id} 登记的公钥不符 / the signature does not verify under "
                f"the public key registered on grant {grant.id} ({key[:16]}…)",
                field="signature",
            )
        size = int(fields["tree_size"])
        current = ledger.tree_size(conn)
        if size > current or ledger.root(conn, size).hex() != fields["root_hash"]:
            raise VerificationFailed(
                f"声明的树根与账本不符 / the statement's root_hash is not the ledger's root "
                f"over its first {size} leaves (the ledger has {current})",
                field="statement",
            )
        still_open = open_findings(conn, grant.id, site, period)
        majors = _majors(still_open)
        if majors:
            raise InputError(
                f"尚有未关闭的重大不符合项，不能签署 / cannot sign off while major findings "
                f"are open: {', '.join(f'#{r.id}' for r in majors)}",
                field="findings",
            )
        if fields["open_findings"] != len(still_open):
            raise InputError(
                f"声明的未关闭不符合项数 {fields['open_findings']} 与实际 {len(still_open)} "
                f"不符 / the statement counts {fields['open_findings']} open findings; "
                f"{len(still_open)} are open",
                field="statement",
            )
        at = now_us()
        who = scope.principal.username
        signoff_id = _insert(conn, verifier_signoff, grant_id=grant.id, site_key=site,
                             period=period, verifier=who, public_key=key, statement=statement,
                             signature=signature.strip().lower(), tree_size=size,
                             root_hash=fields["root_hash"], opinion=fields["opinion"],
                             at_us=at)  # fmt: skip
        payload = signoff.leaf_payload(id=signoff_id, site=site, period=period, verifier=who,
                                       grant_id=grant.id, public_key=key, statement=statement,
                                       signature=signature.strip().lower())  # fmt: skip
        leaf = ledger.append(conn, "signoff", signoff.leaf_ref(site, period, signoff_id),
                             payload)  # fmt: skip
        conn.execute(
            verifier_signoff.update()
            .where(verifier_signoff.c.id == signoff_id)
            .values(leaf_index=leaf)
        )
    return {**payload, "leaf_index": leaf, "tree_size": size}


# --- what each side sees ----------------------------------------------------------------------


def workbench(store: Store, scope: Scope, site: str | None = None) -> dict[str, Any]:
    """Everything the caller sees on the workbench: per site, the months open to them, the
    requests and findings with their replies, and the sign-offs. A verifier sees the sites
    of their grants and only what was raised under those grants; the plant sees its own
    sites and everything raised on them."""
    scope.require("read")
    with store.read() as conn:
        sites: list[dict[str, Any]] = []
        if scope.principal.role in VERIFIERS:
            for g in scope.grants:
                if site is None or g.site == site:
                    months = grant_months(conn, g)
                    sites.append({"site": g.site, "side": "verifier", "grant_id": g.id,
                                  "grant_ids": [g.id], "months": months})  # fmt: skip
        e = schema.entity
        own = conn.execute(
            sa.select(e.c.key).where(e.c.kind == "site", e.c.org_key == scope.org,
                                     e.c.retired_at_us.is_(None)).order_by(e.c.key)
        ).scalars().all()  # fmt: skip
        for key in own:
            if site is None or key == site:
                sites.append({"site": key, "side": "plant", "grant_id": None,
                              "grant_ids": None, "months": []})  # fmt: skip
        if site is not None and not sites:
            raise NotFound(f"没有站点 / no site {site!r}")
        for entry in sites:
            entry.update(_records(conn, entry["site"], entry["grant_ids"]))
            if entry["side"] == "verifier":
                key = _key_or_none(conn, entry["grant_id"])
                entry["public_key"] = key
    return {"sites": sites, "role": scope.principal.role}


def _key_or_none(conn: sa.Connection, grant_id: int) -> str | None:
    key = conn.execute(
        sa.select(share_grant.c.verifier_public_key).where(share_grant.c.id == grant_id)
    ).scalar()
    return None if key is None else str(key)


def _records(conn: sa.Connection, site: str, grant_ids: list[int] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, table in (("requests", verifier_request), ("findings", verifier_finding)):
        query = sa.select(table).where(table.c.site_key == site)
        if grant_ids is not None:
            query = query.where(table.c.grant_id.in_(grant_ids))
        rows = conn.execute(query.order_by(table.c.id.desc())).all()
        replies = _replies(conn, name[:-1], [int(r.id) for r in rows])
        out[name] = [{**_public(r), "replies": replies.get(int(r.id), [])} for r in rows]
    files: dict[str, list[dict[str, Any]]] = {}
    for item in evidence.list_evidence(conn, site, "request"):
        files.setdefault(item.target_ref, []).append(item.public())
    for entry in out["requests"]:
        entry["evidence"] = files.get(f"request/{entry['id']}", [])
    s = verifier_signoff
    query = sa.select(s).where(s.c.site_key == site)
    if grant_ids is not None:
        query = query.where(s.c.grant_id.in_(grant_ids))
    out["signoffs"] = [
        {**{k: v for k, v in r._mapping.items() if k not in ("site_key", "at_us")},
         "site": r.site_key, "at": _stamp(r.at_us)}
        for r in conn.execute(query.order_by(s.c.id.desc()))
    ]  # fmt: skip
    return out


def one(store: Store, scope: Scope, what: str, row_id: int) -> dict[str, Any]:
    """One request or finding with its replies, if the caller sees it."""
    table = verifier_request if what == "request" else verifier_finding
    with store.read() as conn:
        row = _row(conn, table, row_id, what)
        side = _visible(conn, scope, row, what)
        replies = _replies(conn, what, [row_id]).get(row_id, [])
        files = []
        if what == "request":
            found = evidence.list_evidence(conn, row.site_key, "request", f"request/{row_id}")
            files = [item.public() for item in found]
    return {**_public(row), "replies": replies, "side": side, "evidence": files}


def attacher(
    ledger: LedgerLike, blobs: evidence.BlobStore, *, filename: str, media_type: str,
    data: bytes, by: str, note: str = "", max_bytes: int | None = None,
) -> Attach:  # fmt: skip
    """An :data:`Attach` that stores one uploaded file with :func:`evidence.attach` (its
    checks — type, size, bytes matching the type — refuse bad files before anything is
    written)."""

    def run(conn: sa.Connection, site: str, target_ref: str) -> str:
        item = evidence.attach(conn, ledger=ledger, blobs=blobs, site=site,
                               target_kind="request", target_ref=target_ref,
                               filename=filename, media_type=media_type, data=data, by=by,
                               at=now_us(), note=note, max_bytes=max_bytes)  # fmt: skip
        return item.ref

    return run


def request_file(
    store: Store, scope: Scope, blobs: evidence.BlobStore, request_id: int, evidence_id: int
) -> tuple[evidence.Evidence, bytes]:
    """One file attached to a request the caller sees, and its bytes."""
    with store.read() as conn:
        row = _row(conn, verifier_request, request_id, "请求")
        _visible(conn, scope, row, "request")
        item = evidence.get_evidence(conn, row.site_key, evidence_id)
    if item.target_kind != "request" or item.target_ref != f"request/{request_id}":
        raise NotFound(f"请求 {request_id} 没有附件 {evidence_id} / request {request_id} has "
                       f"no attachment {evidence_id}")  # fmt: skip
    return item, blobs.get(item.sha256)
