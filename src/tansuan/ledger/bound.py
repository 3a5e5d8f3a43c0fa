"""Stored manual entries and accounting results bound to their leaves (docs/ledger.md).

Two kinds of stored row are checked here against the leaf written with them in the
same transaction:

* **manual entries** (``series_entry``): each written version appends a ``manual_entry``
  leaf carrying the entry's canonical values (:func:`manual_entry_payload`);
* **result sets** (``result_sets`` + ``result_lines``): each saved version appends an
  ``emission_result`` leaf carrying its lines, state and the SHA-256 of its stored trace
  (:func:`result_payload`). The mutable status (current / superseded / proposed /
  accepted …) is not in the leaf: a current set is checked against the leaf history
  instead (it must have a leaf, and only one version of a source-month is current).

:func:`verify_bound` recomputes every stored row and names each difference;
:func:`check_result_sets` is the cheap per-request check the emissions API runs before
serving a number (one leaf lookup and one trace digest per set).

Rows written before their kind was logged carry no leaf; they are told apart from
inserted rows by their ids: an entry whose ingest batch, or a set whose id, is older
than the first one a leaf logs is "not bound (written before …)", a note, not a
finding.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from tansuan.ledger import merkle
from tansuan.ledger.canonical import envelope
from tansuan.ledger.log import Entry as LeafEntry
from tansuan.ledger.log import Ledger
from tansuan.store import schema

if TYPE_CHECKING:
    from tansuan.ledger.verify import Outcome

MANUAL_KIND = "manual_entry"
RESULT_KIND = "emission_result"

#: zh-CN labels of the findings this module adds (merged into verify's LABELS_ZH).
LABELS_ZH = {
    "manual_entry_changed": "手工数据被修改",
    "manual_entry_removed": "手工数据被删除",
    "manual_entry_added": "手工数据未记入账本",
    "manual_entry_current": "手工数据当前版本不符",
    "result_changed": "核算结果与叶子不符",
    "result_line_changed": "核算结果行被修改",
    "result_trace_changed": "核算追溯记录被修改",
    "result_removed": "核算结果被删除",
    "result_unlogged": "核算结果未记入账本",
    "result_current_forged": "伪造的当前版本",
}

#: The stored columns of an entry a manual_entry leaf binds (and verify recomputes).
ENTRY_FIELDS = (
    "site_id",
    "series_id",
    "period_start",
    "period_end",
    "document_ref",
    "version",
    "value",
    "attrs",
    "batch_id",
    "entered_at_us",
)


# ---------------------------------------------------------------- manual entries


def manual_entry_payload(
    row: Any, site_key: str, series_key: str, file_sha256: str | None
) -> dict[str, Any]:
    """Leaf payload of one stored entry version: its stored columns, the site and series
    keys, the version it supersedes (None for the first) and the uploaded file's
    SHA-256 (None when it came from no file)."""
    payload: dict[str, Any] = {name: getattr(row, name) for name in ENTRY_FIELDS}
    payload["value"] = float(payload["value"])
    payload.update(
        site=site_key,
        series=series_key,
        supersedes=None if int(row.version) <= 1 else int(row.version) - 1,
        file_sha256=file_sha256,
    )
    return payload


def manual_entry_ref(payload: dict[str, Any]) -> str:
    ref = (
        f"manual/{payload['site']}/{payload['series']}/"
        f"{payload['period_start']}-{payload['period_end']}/v{payload['version']}"
    )
    return ref[:200]


def _entry_rows(connection: Connection, *where: Any) -> list[Any]:
    t, s = schema.series_entry, schema.series
    return list(
        connection.execute(
            select(*(t.c[name] for name in ENTRY_FIELDS), t.c.current, s.c.site_key, s.c.key)
            .outerjoin(s, s.c.id == t.c.series_id)
            .where(*where)
        )
    )


def append_manual_entries(
    ledger: Ledger, connection: Connection, batch_id: int, file_sha256: str | None
) -> int:
    """Append one ``manual_entry`` leaf per entry version the import ``batch_id`` wrote
    (inside its transaction); return how many."""
    rows = _entry_rows(connection, schema.series_entry.c.batch_id == batch_id)
    leaves = []
    for row in sorted(rows, key=_entry_key):
        payload = manual_entry_payload(row, str(row.site_key), str(row.key), file_sha256)
        leaves.append(LeafEntry(MANUAL_KIND, manual_entry_ref(payload), payload))
    if leaves:
        ledger.append_many(connection, leaves)
    return len(leaves)


def _entry_key(row: Any) -> tuple[Any, ...]:
    return tuple(
        getattr(row, n) if not isinstance(row, dict) else row[n]
        for n in ("site_id", "series_id", "period_start", "period_end", "document_ref", "version")
    )


def _describe_entry(values: Any, site: str, series: str) -> str:
    get = values.get if isinstance(values, dict) else lambda n: getattr(values, n)
    ref = get("document_ref")
    return (
        f"manual entry {site}/{series} period {get('period_start')}–{get('period_end')}"
        f"{f' document {ref!r}' if ref else ''} v{get('version')}"
    )


def _leaves(connection: Connection, kind: str) -> list[Any]:
    t = schema.ledger_leaves
    return list(
        connection.execute(
            select(t.c.leaf_index, t.c.payload).where(t.c.kind == kind).order_by(t.c.leaf_index)
        )
    )


def check_manual(connection: Connection, outcome: Outcome) -> None:
    """Compare every stored manual entry with its ``manual_entry`` leaf."""
    logged: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    for leaf in _leaves(connection, MANUAL_KIND):
        try:
            payload = json.loads(leaf.payload)
            logged[_entry_key(payload)] = (int(leaf.leaf_index), payload)
        except (ValueError, KeyError, TypeError):
            outcome.add(
                "manual_entry_changed", f"leaf {leaf.leaf_index}: payload is not a manual entry"
            )
    first_batch = min((int(p["batch_id"]) for _, p in logged.values()), default=None)
    rows = _entry_rows(connection)
    stored = {_entry_key(row): row for row in rows}
    legacy = 0
    for key, row in sorted(stored.items(), key=lambda kv: repr(kv[0])):
        name = _describe_entry(row, str(row.site_key), str(row.key))
        found = logged.get(key)
        if found is None:
            if first_batch is None or int(row.batch_id) < first_batch:
                legacy += 1
            else:
                outcome.add(
                    "manual_entry_added",
                    f"{name} (value {float(row.value)!r}, batch {row.batch_id}) has no leaf: "
                    "inserted outside an import",
                )
            continue
        index, payload = found
        changes = [
            f"{n} {payload.get(n)!r} → {getattr(row, n)!r}"
            for n in ENTRY_FIELDS
            if (float(row.value) if n == "value" else getattr(row, n)) != payload.get(n)
        ]
        if changes:
            outcome.add("manual_entry_changed", f"{name}: {'; '.join(changes)} (leaf {index})")
    for key in sorted(logged.keys() - stored.keys(), key=repr):
        index, payload = logged[key]
        name = _describe_entry(payload, str(payload.get("site")), str(payload.get("series")))
        outcome.add(
            "manual_entry_removed", f"{name} removed (was {payload.get('value')!r}) (leaf {index})"
        )
    versions: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for key, row in stored.items():
        versions[key[:5]].append(row)
    for group in versions.values():
        newest = max(group, key=lambda r: int(r.version))
        current = sorted(int(r.version) for r in group if r.current)
        if current != [int(newest.version)]:
            outcome.add(
                "manual_entry_current",
                f"{_describe_entry(newest, str(newest.site_key), str(newest.key))}: "
                f"current version(s) {current or 'none'}, expected only v{newest.version}",
            )
    if legacy:
        outcome.notes.append(
            f"{legacy} manual entries not bound (written before manual entries were logged) "
            "/ 手工数据写入早于账本记录，未绑定"
        )


# ---------------------------------------------------------------- results


def trace_sha256(trace: bytes) -> str:
    return hashlib.sha256(bytes(trace)).hexdigest()


def result_payload(
    set_id: int,
    *,
    site: str,
    source: str,
    period: str,
    version: int,
    method: str,
    inputs_digest: str,
    lines: Iterable[Sequence[Any]],
    state: str,
    problem: str | None,
    trace: bytes,
) -> dict[str, Any]:
    """Leaf payload of one saved result version (``emission_result``)."""
    payload: dict[str, Any] = {
        "result_set": int(set_id),
        "site": site,
        "source": source,
        "period": period,
        "version": int(version),
        "method": method,
        "inputs_digest": inputs_digest,
        "lines": [[str(g), str(s), int(m), int(c)] for g, s, m, c in lines],
        "trace_sha256": trace_sha256(trace),
    }
    if state != "computed":  # failed / missing / inactive: no lines, says why
        payload.update(state=state, problem=problem)
    return payload


def result_ref(site: str, source: str, period: str, version: int) -> str:
    return f"{site}/{source}/{period}/v{version}"


def _describe_set(row: Any) -> str:
    return f"result {row.site_id}/{row.source_id} {row.period} v{row.version} (set {row.id})"


def _set_rows(connection: Connection, ids: Sequence[int] | None = None) -> list[Any]:
    rs = schema.result_sets
    query = select(
        rs.c.id,
        rs.c.site_id,
        rs.c.source_id,
        rs.c.period,
        rs.c.version,
        rs.c.status,
        rs.c.state,
        rs.c.trace,
    )
    if ids is not None:
        query = query.where(rs.c.id.in_(list(ids)))
    return list(connection.execute(query.order_by(rs.c.id)))


def _set_lines(connection: Connection, ids: Sequence[int] | None = None) -> dict[int, list[Any]]:
    rl = schema.result_lines
    query = select(rl.c.set_id, rl.c.gas, rl.c.scope, rl.c.mass_g, rl.c.co2e_g)
    if ids is not None:
        query = query.where(rl.c.set_id.in_(list(ids)))
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(query):
        lines[int(row.set_id)].append(
            [str(row.gas), str(row.scope), int(row.mass_g), int(row.co2e_g)]
        )
    return lines


def _compare_set(
    row: Any, lines: list[Any], payload: dict[str, Any], index: int
) -> tuple[list[tuple[str, str]], bool]:
    """Findings (code, detail) of one stored set against its leaf; whether the trace is
    bound (a leaf written before traces were bound carries no trace digest)."""
    name = _describe_set(row)
    found: list[tuple[str, str]] = []
    for column, key in (
        ("site_id", "site"),
        ("source_id", "source"),
        ("period", "period"),
        ("version", "version"),
    ):
        if getattr(row, column) != payload.get(key):
            found.append(
                (
                    "result_changed",
                    f"{name}: {column} {payload.get(key)!r} → {getattr(row, column)!r} "
                    f"(leaf {index})",
                )
            )
    if (row.state or "computed") != payload.get("state", "computed"):
        found.append(
            (
                "result_changed",
                f"{name}: state {payload.get('state', 'computed')!r} → {row.state!r} "
                f"(leaf {index})",
            )
        )
    logged = {(g, s): (m, c) for g, s, m, c in payload.get("lines", [])}
    stored = {(g, s): (m, c) for g, s, m, c in lines}
    for gas, scope in sorted(logged.keys() | stored.keys()):
        where = f"{name} line {gas}/{scope}"
        if (gas, scope) not in stored:
            found.append(("result_line_changed", f"{where} removed (leaf {index})"))
        elif (gas, scope) not in logged:
            found.append(
                ("result_line_changed", f"{where} added (co2e_g {stored[(gas, scope)][1]})")
            )
        elif logged[(gas, scope)] != stored[(gas, scope)]:
            (m0, c0), (m1, c1) = logged[(gas, scope)], stored[(gas, scope)]
            found.append(
                (
                    "result_line_changed",
                    f"{where}: mass_g {m0} → {m1}, co2e_g {c0} → {c1} (leaf {index})",
                )
            )
    digest = payload.get("trace_sha256")
    if digest is not None and trace_sha256(row.trace) != digest:
        found.append(
            (
                "result_trace_changed",
                f"{name}: stored trace SHA-256 {trace_sha256(row.trace)[:16]}… differs from "
                f"the logged {str(digest)[:16]}… (leaf {index})",
            )
        )
    return found, digest is not None


def _result_leaves(connection: Connection) -> dict[int, tuple[int, dict[str, Any]]]:
    logged: dict[int, tuple[int, dict[str, Any]]] = {}
    for leaf in _leaves(connection, RESULT_KIND):
        try:
            payload = json.loads(leaf.payload)
            logged[int(payload["result_set"])] = (int(leaf.leaf_index), payload)
        except (ValueError, KeyError, TypeError):
            continue  # leaf hash checks name an edited payload
    return logged


def _unlogged(row: Any, first_logged: int | None) -> tuple[str, str] | None:
    """The finding for a set no leaf logs, or None when it predates result logging."""
    if first_logged is None or int(row.id) < first_logged:
        return None
    if row.status == "current":
        return (
            "result_current_forged",
            f"{_describe_set(row)} is the current version but no leaf logs it "
            "(a forged current version)",
        )
    return ("result_unlogged", f"{_describe_set(row)} has no leaf (inserted afterwards)")


def check_results(connection: Connection, outcome: Outcome) -> None:
    """Compare every stored result set (lines, trace, state) with its leaf."""
    logged = _result_leaves(connection)
    first_logged = min(logged, default=None)
    rows = _set_rows(connection)
    lines = _set_lines(connection)
    legacy = unbound = 0
    for row in rows:
        found = logged.get(int(row.id))
        if found is None:
            finding = _unlogged(row, first_logged)
            if finding is None:
                legacy += 1
            else:
                outcome.add(*finding)
            continue
        index, payload = found
        findings, bound = _compare_set(row, lines.get(int(row.id), []), payload, index)
        unbound += not bound
        for finding in findings:
            outcome.add(*finding)
    stored_ids = {int(row.id) for row in rows}
    for set_id in sorted(logged.keys() - stored_ids):
        index, payload = logged[set_id]
        outcome.add(
            "result_removed",
            f"result {payload.get('site')}/{payload.get('source')} {payload.get('period')} "
            f"v{payload.get('version')} (set {set_id}) was deleted (leaf {index})",
        )
    current: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for row in rows:
        if row.status == "current":
            current[(row.site_id, row.source_id, row.period)].append(int(row.version))
    for (site, source, period), versions in sorted(current.items()):
        if len(versions) > 1:
            outcome.add(
                "result_current_forged",
                f"result {site}/{source} {period}: versions {sorted(versions)} are all current",
            )
    if legacy:
        outcome.notes.append(
            f"{legacy} result sets not bound (written before results were logged) "
            "/ 核算结果早于账本记录，未绑定"
        )
    if unbound:
        outcome.notes.append(
            f"{unbound} result sets' traces not bound (their leaves were written before "
            "traces were bound) / 追溯记录未绑定"
        )


def verify_bound(connection: Connection, outcome: Outcome) -> None:
    """Check manual entries and result sets against their leaves (adds to ``outcome``)."""
    check_manual(connection, outcome)
    check_results(connection, outcome)


def check_result_sets(connection: Connection, set_ids: Iterable[int]) -> dict[int, str]:
    """The problem with each of ``set_ids`` whose stored lines, trace or state do not
    match its leaf, or that no leaf logs (empty when all hold).

    What the emissions API runs before serving numbers: the leaves are looked up by ref
    (indexed), and each leaf's hash is recomputed from its bytes (a leaf edited to
    match an edited row is caught here too; a leaf *and* its hash rewritten is caught by
    ``tansuan verify`` against the signed tree heads).
    """
    ids = sorted({int(i) for i in set_ids})
    if not ids:
        return {}
    t = schema.ledger_leaves
    rows = _set_rows(connection, ids)
    lines = _set_lines(connection, ids)
    refs = {result_ref(r.site_id, r.source_id, r.period, r.version): r for r in rows}
    leaves: dict[int, Any] = {}
    ref_list = sorted(refs)
    for start in range(0, len(ref_list), 500):
        for found in connection.execute(
            select(t.c.leaf_index, t.c.ref, t.c.payload, t.c.leaf_hash).where(
                t.c.kind == RESULT_KIND, t.c.ref.in_(ref_list[start : start + 500])
            )
        ):
            leaves[int(json.loads(found.payload).get("result_set", -1))] = found
    first_logged = connection.execute(
        select(func.min(t.c.leaf_index)).where(t.c.kind == RESULT_KIND)
    ).scalar()
    first_set = None
    if first_logged is not None:
        first_payload = connection.execute(
            select(t.c.payload).where(t.c.leaf_index == first_logged)
        ).scalar_one()
        first_set = int(json.loads(first_payload).get("result_set", 0))
    problems: dict[int, str] = {}
    for row in rows:
        leaf = leaves.get(int(row.id))
        if leaf is None:
            finding = _unlogged(row, first_set)
            if finding is not None:
                problems[int(row.id)] = finding[1]
            continue
        if merkle.leaf_hash(envelope(RESULT_KIND, leaf.ref, leaf.payload)) != bytes(leaf.leaf_hash):
            problems[int(row.id)] = f"{_describe_set(row)}: its leaf {leaf.leaf_index} was edited"
            continue
        findings, _ = _compare_set(
            row, lines.get(int(row.id), []), json.loads(leaf.payload), int(leaf.leaf_index)
        )
        if findings:
            problems[int(row.id)] = "; ".join(detail for _, detail in findings)
    return problems


def deleted_result_sets(connection: Connection, site: str, periods: Sequence[str]) -> list[str]:
    """The logged result sets of ``site`` in ``periods`` that are gone from the store,
    each named (the store never deletes a result set: a new version supersedes it).

    Reads the site's ``emission_result`` leaves of those months (index on kind, ref) and
    looks their set ids up in one query.
    """
    t = schema.ledger_leaves
    escaped = site.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    wanted = {f"/{period}/v" for period in periods}
    logged: dict[int, dict[str, Any]] = {}
    for leaf in connection.execute(
        select(t.c.ref, t.c.payload).where(
            t.c.kind == RESULT_KIND, t.c.ref.like(f"{escaped}/%", escape="\\")
        )
    ):
        if not any(part in leaf.ref for part in wanted):
            continue
        try:
            payload = json.loads(leaf.payload)
            if payload.get("site") == site and payload.get("period") in periods:
                logged[int(payload["result_set"])] = payload
        except (ValueError, KeyError, TypeError):
            continue  # an edited payload: its leaf hash no longer matches (verify)
    if not logged:
        return []
    rs = schema.result_sets
    stored: set[int] = set()
    ids = sorted(logged)
    for start in range(0, len(ids), 500):
        stored.update(
            int(i)
            for i in connection.execute(
                select(rs.c.id).where(rs.c.id.in_(ids[start : start + 500]))
            ).scalars()
        )
    return [
        f"result {p.get('site')}/{p.get('source')} {p.get('period')} v{p.get('version')} "
        f"(set {set_id}) was deleted"
        for set_id, p in sorted(logged.items())
        if set_id not in stored
    ]
