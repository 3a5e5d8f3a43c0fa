"""Recompute a saved result from its ledgered inputs (``tansuan verify --result ID``).

An ``emission_result`` leaf binds the inputs its result used (``"inputs"``, see
:func:`tansuan.ledger.inputs.result_inputs`). :func:`reproduce` takes one stored result
set and

1. checks its leaf (the leaf hash recomputed from the payload);
2. checks each bound input against its own leaf and against the store: the site-model
   document of the version named (its SHA-256 against the logged one), every factor
   table (the installed CSV against the logged release: a changed row is named by table,
   row key and column), the manual entries (each stored value against its
   ``manual_entry`` leaf and the value the result used), the declarations, and the
   readings of the source's points in the month (their digest recomputed; when it
   differs, every batch that held them is re-encoded and compared with its
   ``ingest_batch`` leaf, naming each reading);
3. recomputes the source-month with the accounting engine from the site-model document
   of the version named (months from January, as ``tansuan account`` runs a year) and
   compares the lines and the inputs digest with the leaf.

The result is "reproduced / 已复现" when nothing differs; otherwise each input or line
that differs is named. A leaf written before results bound their inputs is "not bound".
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import Period, month_period
from tansuan.accounting.results import ResultSet, canonical_json
from tansuan.domain import tables
from tansuan.errors import InputError, NotFound, TansuanError
from tansuan.ledger import bound, inputs, merkle
from tansuan.ledger.canonical import envelope
from tansuan.ledger.log import Leaf
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, _check_batch
from tansuan.site.model import SiteModel
from tansuan.store import schema
from tansuan.store.database import Store
from tansuan.store.readings import batch_rows

REPRODUCED = "reproduced / 已复现"
NOT_BOUND = "not bound (its leaf was written before results bound their inputs) / 未绑定输入"


@dataclass
class Reproduction:
    """What :func:`reproduce` found for one result set."""

    set_id: int
    name: str  #: ``site/source month vN``
    differences: list[str] = field(default_factory=list)
    bound: bool = True  #: False: the leaf carries no ``inputs`` (older leaf)

    @property
    def reproduced(self) -> bool:
        return self.bound and not self.differences

    def summary(self) -> str:
        if not self.bound:
            return f"result {self.name}: {NOT_BOUND}"
        if self.reproduced:
            return f"result {self.name}: {REPRODUCED}"
        return f"result {self.name}: not reproduced / 未能复现 ({len(self.differences)})"


def resolve(connection: Connection, ident: str) -> int:
    """A result-set id from ``ID`` or ``site/source/month`` (its current version)."""
    rs = schema.result_sets
    text = ident.strip()
    if text.isdigit():
        row = connection.execute(select(rs.c.id).where(rs.c.id == int(text))).first()
        if row is None:
            raise NotFound(f"没有核算结果 / no result set {text}")
        return int(row.id)
    parts = text.split("/")
    if len(parts) != 3 or not all(parts):
        raise InputError(
            f"--result wants a result-set id or site/source/month, got {ident!r}", field="result"
        )
    site, source, month = parts
    row = connection.execute(
        select(rs.c.id).where(
            rs.c.site_id == site,
            rs.c.source_id == source,
            rs.c.period == month,
            rs.c.status == "current",
        )
    ).first()
    if row is None:
        raise NotFound(f"没有当前核算结果 / no current result for {site}/{source}/{month}")
    return int(row.id)


def _leaf(connection: Connection, kind: str, ref: str) -> Any:
    t = schema.ledger_leaves
    return connection.execute(
        select(t.c.leaf_index, t.c.ref, t.c.payload, t.c.leaf_hash)
        .where(t.c.kind == kind, t.c.ref == ref)
        .order_by(t.c.leaf_index.desc())
    ).first()


def _intact(kind: str, leaf: Any) -> bool:
    return merkle.leaf_hash(envelope(kind, leaf.ref, leaf.payload)) == bytes(leaf.leaf_hash)


# ---------------------------------------------------------------- inputs


def _check_model(connection: Connection, logged: Any, out: list[str]) -> SiteModel | None:
    """The site model of the logged version, checked against the logged digest."""
    if not isinstance(logged, dict):
        out.append("site model: the result names no site-model version")
        return None
    version_id = int(logged["version_id"])
    md = schema.model_document
    text = connection.execute(select(md.c.document).where(md.c.version_id == version_id)).scalar()
    if text is None:
        out.append(f"site model v{version_id}: its stored document is gone")
        return None
    digest = inputs.sha256_text(str(text))
    if digest != logged.get("document_sha256"):
        out.append(
            f"site model v{version_id}: stored document SHA-256 {digest[:16]}… differs from "
            f"the {str(logged.get('document_sha256'))[:16]}… the result used"
        )
    leaf = _leaf(connection, inputs.SITE_MODEL_KIND, inputs.site_model_ref(version_id))
    if leaf is not None:
        payload = json.loads(leaf.payload)
        if not _intact(inputs.SITE_MODEL_KIND, leaf):
            out.append(f"site model v{version_id}: its leaf {leaf.leaf_index} was edited")
        elif payload.get("document_sha256") != logged.get("document_sha256"):
            out.append(
                f"site model v{version_id}: the result's digest differs from the version's "
                f"leaf {leaf.leaf_index}"
            )
    try:
        return SiteModel.model_validate(json.loads(str(text)))
    except (ValueError, TansuanError) as error:
        out.append(f"site model v{version_id}: the stored document does not load: {error}")
        return None


def _check_tables(connection: Connection, logged: Any, out: list[str]) -> None:
    if not isinstance(logged, dict):
        return
    releases = inputs.logged_releases(connection)
    installed = inputs.installed_digests(sorted(logged))
    for name, digest in sorted(logged.items()):
        if installed.get(name) == digest:
            continue
        found = releases.get(name, {}).get(str(digest))
        if found is None:
            out.append(f"factor table {name}: release {str(digest)[:16]}… has no leaf")
            continue
        index, payload = found
        changes = inputs.diff_table(name, str(payload.get("csv", "")), tables.csv_text(name))
        for change in changes:
            out.append(f"factor table {change} (logged in leaf {index})")


def _check_manual(
    connection: Connection, site: str, source_series: Iterable[str], period: str, logged: Any,
    out: list[str],
) -> None:  # fmt: skip
    if not isinstance(logged, list):
        return
    used = {str(ref): value for ref, value in logged}
    now = {str(ref): value for ref, value in inputs.manual_used(
        connection, site, source_series, period)}  # fmt: skip
    for ref in sorted(used.keys() | now.keys()):
        if ref not in now:
            out.append(f"manual entry {ref} (value {used[ref]!r}) is no longer stored as current")
        elif ref not in used:
            out.append(f"manual entry {ref} (value {now[ref]!r}) was not among the result's inputs")
        elif float(now[ref]) != float(used[ref]):
            out.append(f"manual entry {ref}: value {used[ref]!r} → {now[ref]!r}")
        leaf = _leaf(connection, bound.MANUAL_KIND, ref)
        if ref in used and leaf is None:
            out.append(f"manual entry {ref}: no leaf logs it")
        elif leaf is not None and ref in used:
            payload = json.loads(leaf.payload)
            if not _intact(bound.MANUAL_KIND, leaf):
                out.append(f"manual entry {ref}: its leaf {leaf.leaf_index} was edited")
            elif float(payload.get("value", "nan")) != float(used[ref]):
                out.append(
                    f"manual entry {ref}: the result used {used[ref]!r}, its leaf "
                    f"{leaf.leaf_index} logs {payload.get('value')!r}"
                )


def _check_readings(
    connection: Connection, site: str, logged: Any, public_key: Ed25519PublicKey, out: list[str]
) -> None:
    if not isinstance(logged, dict):
        return
    window = (int(logged["from_us"]), int(logged["to_us"]))
    digest, count, batches = inputs.readings_digest(connection, site, logged["points"], window)
    if digest == logged.get("sha256"):
        return
    out.append(
        f"readings of {', '.join(logged['points']) or 'no point'} in the month: "
        f"SHA-256 {digest[:16]}… ({count}) differs from the {str(logged.get('sha256'))[:16]}… "
        f"({logged.get('count')}) the result used"
    )
    source = LiveSource(connection, batch_rows, public_key)
    t = schema.ledger_leaves
    outcome = Outcome()
    for batch_id in sorted(set(logged.get("batches", [])) | set(batches)):
        found = connection.execute(
            select(t).where(t.c.kind == "ingest_batch", t.c.ref == str(batch_id))
        ).first()
        if found is None:
            out.append(f"batch {batch_id}: no leaf logs it")
            continue
        _check_batch(source, Leaf(**found._mapping), outcome)
    out.extend(str(finding) for finding in outcome.findings)


def _check_declarations(
    connection: Connection, site: str, source: str, period: str, logged: Any, out: list[str]
) -> None:
    if not isinstance(logged, list):
        return
    now = inputs.declarations_used(connection, site, source, period)
    if json.loads(json.dumps(now)) != logged:
        out.append(f"declarations of {site}/{source} {period}: {logged} → {now}")


# ---------------------------------------------------------------- recompute


def _recompute(
    store: Store, connection: Connection, model: SiteModel, row: Any, gwp: str | None
) -> ResultSet | None:
    site = model.site(row.site_id)
    source = next((s for s in site.sources if s.id == row.source_id), None)
    if source is None:
        return None
    month = month_period(int(row.period[:4]), int(row.period[5:7]))
    year = Period(month.start.replace(month=1), month.end, "custom", row.period)
    accountant = Accountant(store, model, gwp=gwp)
    computed, _ = accountant._compute(connection, site, [source], year, None)
    return next((r for r in computed if r.period == row.period), None)


def _compare_lines(payload: dict[str, Any], result: ResultSet, out: list[str]) -> None:
    logged = {(g, s): (m, c) for g, s, m, c in payload.get("lines", [])}
    again = {(ln.gas, ln.scope): (ln.mass_g, ln.co2e_g) for ln in result.lines}
    for gas, scope in sorted(logged.keys() | again.keys()):
        if (gas, scope) not in again:
            out.append(f"line {gas}/{scope}: logged {logged[(gas, scope)][1]} g CO2e, not "
                       "recomputed")  # fmt: skip
        elif (gas, scope) not in logged:
            out.append(f"line {gas}/{scope}: recomputed {again[(gas, scope)][1]} g CO2e, not "
                       "logged")  # fmt: skip
        elif logged[(gas, scope)] != again[(gas, scope)]:
            (m0, c0), (m1, c1) = logged[(gas, scope)], again[(gas, scope)]
            out.append(f"line {gas}/{scope}: logged mass_g {m0}, co2e_g {c0} → recomputed "
                       f"mass_g {m1}, co2e_g {c1}")  # fmt: skip


def _diff(path: str, old: Any, new: Any, out: list[str], limit: int = 20) -> None:
    """Name the leaves of two JSON values that differ (at most ``limit``)."""
    if len(out) >= limit:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            _diff(f"{path}.{key}", old.get(key), new.get(key), out, limit)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(f"{path}[{i}]", a, b, out, limit)
    elif old != new:
        out.append(f"{path}: {old!r} → {new!r}")


def _stored_inputs(connection: Connection, set_id: int) -> Any:
    rs = schema.result_sets
    trace = connection.execute(select(rs.c.trace).where(rs.c.id == set_id)).scalar()
    try:
        return json.loads(bytes(trace)).get("inputs") if trace is not None else None
    except (ValueError, AttributeError):
        return None


def reproduce(
    store: Store, connection: Connection, set_id: int, public_key: Ed25519PublicKey
) -> Reproduction:
    """Recompute result set ``set_id`` from its ledgered inputs; name what differs."""
    rs = schema.result_sets
    row = connection.execute(
        select(rs.c.id, rs.c.site_id, rs.c.source_id, rs.c.period, rs.c.version, rs.c.state)
        .where(rs.c.id == set_id)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"没有核算结果 / no result set {set_id}")
    name = f"{row.site_id}/{row.source_id} {row.period} v{row.version} (set {set_id})"
    found = Reproduction(set_id, name)
    out = found.differences
    ref = bound.result_ref(row.site_id, row.source_id, row.period, row.version)
    leaf = _leaf(connection, bound.RESULT_KIND, ref)
    if leaf is None:
        out.append(f"no emission_result leaf logs {ref}")
        return found
    if not _intact(bound.RESULT_KIND, leaf):
        out.append(f"its leaf {leaf.leaf_index} was edited")
        return found
    payload = json.loads(leaf.payload)
    bound_inputs = payload.get("inputs")
    if not isinstance(bound_inputs, dict):
        found.bound = False
        return found
    model = _check_model(connection, bound_inputs.get("site_model"), out)
    _check_tables(connection, bound_inputs.get("factor_tables"), out)
    series: set[str] = set()
    if model is not None:
        document = json.loads(canonical_json(model.model_dump(mode="json", by_alias=True)))
        series = inputs.source_refs(document, row.site_id, row.source_id)[1]
    _check_manual(
        connection, row.site_id, series, row.period, bound_inputs.get("manual_entries"), out
    )
    _check_declarations(
        connection, row.site_id, row.source_id, row.period, bound_inputs.get("declarations"), out
    )
    _check_readings(connection, row.site_id, bound_inputs.get("readings"), public_key, out)
    if model is None:
        return found
    gwp = (bound_inputs.get("settings") or {}).get("gwp")
    try:
        again = _recompute(store, connection, model, row, gwp)
    except TansuanError as error:
        out.append(f"recomputation failed: {error}")
        return found
    if again is None:
        out.append(f"source {row.source_id} is not in site-model v"
                   f"{bound_inputs['site_model']['version_id']}")  # fmt: skip
        return found
    lines_before = len(out)
    _compare_lines(payload, again, out)
    if again.digest() != payload.get("inputs_digest"):
        changed: list[str] = []
        stored = _stored_inputs(connection, set_id)
        if stored is not None:
            _diff("inputs", stored, json.loads(canonical_json(again.inputs)), changed)
        if changed:
            out.extend(f"recomputed {c}" for c in changed)
        elif len(out) == lines_before:
            out.append("the recomputed inputs digest differs from the logged one")
    return found


def reproduce_all(
    store: Store,
    connection: Connection,
    public_key: Ed25519PublicKey,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Reproduction]:
    """:func:`reproduce` for every current result set (oldest first)."""
    rs = schema.result_sets
    ids = [int(i) for i in connection.execute(
        select(rs.c.id).where(rs.c.status == "current").order_by(rs.c.id)).scalars()]  # fmt: skip
    out = []
    for set_id in ids:
        out.append(reproduce(store, connection, set_id, public_key))
        if progress is not None:
            progress(1)
    return out


def by_state(found: Sequence[Reproduction]) -> dict[str, list[Reproduction]]:
    """Reproductions grouped: ``reproduced``, ``differs``, ``not_bound``."""
    groups: dict[str, list[Reproduction]] = defaultdict(list)
    for item in found:
        key = "not_bound" if not item.bound else "reproduced" if item.reproduced else "differs"
        groups[key].append(item)
    return groups
