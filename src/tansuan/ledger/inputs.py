"""The inputs of a result in the ledger: site-model versions, factor-table releases,
filings, and what a result leaf binds (docs/ledger.md, "Inputs").

* **site models** — every model load appends a ``site_model`` leaf (ref
  ``site_model/v<id>``) in the load's transaction, carrying the ``model_version`` row and
  the SHA-256 of the stored ``model_document`` text (:func:`site_model_hook`);
* **factor tables** — the shipped reference tables accounting reads are logged when a
  result is saved, once per distinct content: a ``factor_table`` leaf (ref
  ``factor_table/<name>/<sha256[:16]>``) carrying the CSV text itself (the tables are
  small), its SHA-256 and the edition of its metadata (:func:`log_factor_tables`);
* **result inputs** — :func:`result_inputs` is the ``"inputs"`` object an
  ``emission_result`` leaf carries: the site-model version and digest, the factor-table
  digests, the manual entries and declarations used, a digest of the readings of the
  source's points in the month (with the batches that hold them), the filing state and
  the GWP set.

:func:`verify_inputs` checks the stored site-model versions, the installed factor tables
and the period locks against their leaves and names each difference.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, select

from tansuan.domain import tables
from tansuan.errors import ReferenceDataError
from tansuan.ledger.bound import manual_entry_ref
from tansuan.ledger.log import Entry as LeafEntry
from tansuan.ledger.log import Ledger
from tansuan.store import schema

if TYPE_CHECKING:
    from tansuan.ledger.verify import Outcome

SITE_MODEL_KIND = "site_model"
FACTOR_TABLE_KIND = "factor_table"
FILING_KIND = "filing"

#: The shipped tables an emission result can read (factors, GWP, refrigerant blends,
#: sector defaults); each is logged as a release when a result is saved.
ACCOUNTING_TABLES = (*tables.FACTOR_TABLES, "gwp", "refrigerants", "sectors")

#: zh-CN labels of the findings this module adds (merged into verify's LABELS_ZH).
LABELS_ZH = {
    "site_model_changed": "站点模型版本被修改",
    "site_model_removed": "站点模型版本被删除",
    "site_model_added": "站点模型版本未记入账本",
    "factor_table_changed": "排放因子表被修改",
    "filing_lock_changed": "报送锁定记录被修改",
    "filing_lock_removed": "报送锁定记录被删除",
    "filing_lock_added": "报送锁定记录未记入账本",
}

_VERSION_FIELDS = ("loaded_at_us", "source", "digest", "new", "changed", "retired")


def sha256_text(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return hashlib.sha256(data).hexdigest()


def _leaves(connection: Connection, kind: str) -> list[Any]:
    t = schema.ledger_leaves
    return list(
        connection.execute(
            select(t.c.leaf_index, t.c.ref, t.c.payload)
            .where(t.c.kind == kind)
            .order_by(t.c.leaf_index)
        )
    )


# ---------------------------------------------------------------- site models


def site_model_ref(version_id: int) -> str:
    return f"site_model/v{int(version_id)}"


def site_model_payload(version: Any, document: str | None) -> dict[str, Any]:
    """Leaf payload of one model version: its ``model_version`` columns and the SHA-256
    and size of its stored document (canonical JSON text)."""
    payload: dict[str, Any] = {name: getattr(version, name) for name in _VERSION_FIELDS}
    payload.update(
        version_id=int(version.id),
        document_sha256=None if document is None else sha256_text(document),
        document_bytes=None if document is None else len(document.encode("utf-8")),
    )
    return payload


def append_site_model(ledger: Ledger, connection: Connection, version_id: int) -> int:
    """Append the ``site_model`` leaf of model version ``version_id`` (inside the load's
    transaction, after its document is stored); return the leaf index."""
    mv, md = schema.model_version, schema.model_document
    version = connection.execute(select(mv).where(mv.c.id == version_id)).one()
    document = connection.execute(
        select(md.c.document).where(md.c.version_id == version_id)
    ).scalar()
    payload = site_model_payload(version, document)
    return ledger.append(connection, SITE_MODEL_KIND, site_model_ref(version_id), payload)


def site_model_hook(ledger: Ledger) -> Callable[[Connection, int], None]:
    """A :meth:`Store.load_model` hook: one ``site_model`` leaf per version loaded."""

    def hook(connection: Connection, version_id: int) -> None:
        append_site_model(ledger, connection, version_id)

    return hook


def check_site_models(connection: Connection, outcome: Outcome) -> None:
    """Compare every stored model version and document with its ``site_model`` leaf."""
    logged: dict[int, tuple[int, dict[str, Any]]] = {}
    for leaf in _leaves(connection, SITE_MODEL_KIND):
        try:
            payload = json.loads(leaf.payload)
            logged[int(payload["version_id"])] = (int(leaf.leaf_index), payload)
        except (ValueError, KeyError, TypeError):
            outcome.add(
                "site_model_changed", f"leaf {leaf.leaf_index}: payload is not a site model"
            )
    mv, md = schema.model_version, schema.model_document
    versions = {int(r.id): r for r in connection.execute(select(mv).order_by(mv.c.id))}
    documents = {int(r.version_id): str(r.document) for r in connection.execute(select(md))}
    first = min(logged, default=None)
    legacy = 0
    for version_id, row in sorted(versions.items()):
        name = f"site-model version {version_id} ({row.source or 'no source'})"
        found = logged.get(version_id)
        if found is None:
            if first is None or version_id < first:
                legacy += 1
            else:
                outcome.add(
                    "site_model_added",
                    f"{name} has no leaf: inserted outside a model load",
                )
            continue
        index, payload = found
        changes = [
            f"{n} {payload.get(n)!r} → {getattr(row, n)!r}"
            for n in _VERSION_FIELDS
            if getattr(row, n) != payload.get(n)
        ]
        document = documents.get(version_id)
        digest = None if document is None else sha256_text(document)
        if digest != payload.get("document_sha256"):
            if document is None:
                changes.append("document removed")
            else:
                changes.append(
                    f"document SHA-256 {str(payload.get('document_sha256'))[:16]}… → "
                    f"{digest[:16] if digest else None}… (the stored document was edited)"
                )
        if changes:
            outcome.add("site_model_changed", f"{name}: {'; '.join(changes)} (leaf {index})")
    for version_id in sorted(logged.keys() - versions.keys()):
        index, payload = logged[version_id]
        outcome.add(
            "site_model_removed",
            f"site-model version {version_id} ({payload.get('source') or 'no source'}) "
            f"was deleted (leaf {index})",
        )
    for version_id in sorted(documents.keys() - versions.keys() - logged.keys()):
        if first is not None and version_id >= first:
            outcome.add(
                "site_model_added",
                f"site-model document of version {version_id} has no version row and no leaf",
            )
    if legacy:
        outcome.notes.append(
            f"{legacy} site-model versions not bound (written before site models were "
            "logged) / 站点模型版本早于账本记录，未绑定"
        )


# ---------------------------------------------------------------- factor tables


def factor_table_ref(name: str, sha256: str) -> str:
    return f"factor_table/{name}/{sha256[:16]}"


def installed_release(name: str) -> dict[str, Any]:
    """The installed table ``name`` as a ``factor_table`` leaf payload: the CSV text, its
    SHA-256, row count, and the edition and SHA-256 of its metadata file."""
    text = tables.csv_text(name)
    meta_text = tables.metadata_text(name)
    meta = tables.metadata(name)
    return {
        "table": name,
        "sha256": sha256_text(text),
        "rows": max(len(text.splitlines()) - 1, 0),
        "edition": str(meta.get("edition") or ""),
        "metadata_sha256": sha256_text(meta_text),
        "csv": text,
    }


@functools.lru_cache(maxsize=64)
def _release(name: str) -> dict[str, Any]:
    """:func:`installed_release`, read once a process (the hook's path: a result save
    must not re-read every table; verify reads the installed files afresh)."""
    return installed_release(name)


def installed_digests(names: Iterable[str] = ACCOUNTING_TABLES) -> dict[str, str]:
    """SHA-256 of each installed table's CSV text."""
    return {name: sha256_text(tables.csv_text(name)) for name in names}


def log_factor_tables(
    ledger: Ledger, connection: Connection, names: Iterable[str] = ACCOUNTING_TABLES
) -> dict[str, str]:
    """Append a ``factor_table`` leaf for each installed table whose content is not
    logged yet (one indexed query); return every table's SHA-256."""
    releases = {name: _release(name) for name in names}
    refs = {factor_table_ref(n, r["sha256"]): n for n, r in releases.items()}
    t = schema.ledger_leaves
    have = set(
        connection.execute(
            select(t.c.ref).where(t.c.kind == FACTOR_TABLE_KIND, t.c.ref.in_(sorted(refs)))
        ).scalars()
    )
    missing = [LeafEntry(FACTOR_TABLE_KIND, ref, releases[n]) for ref, n in refs.items()
               if ref not in have]  # fmt: skip
    if missing:
        ledger.append_many(connection, missing)
    return {name: str(r["sha256"]) for name, r in releases.items()}


def logged_releases(connection: Connection) -> dict[str, dict[str, tuple[int, dict[str, Any]]]]:
    """Every logged release: table → SHA-256 → (leaf index, payload)."""
    out: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
    for leaf in _leaves(connection, FACTOR_TABLE_KIND):
        try:
            payload = json.loads(leaf.payload)
            out.setdefault(str(payload["table"]), {})[str(payload["sha256"])] = (
                int(leaf.leaf_index),
                payload,
            )
        except (ValueError, KeyError, TypeError):
            continue  # an edited payload: its leaf hash no longer matches (verify)
    return out


def _keyed_rows(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The rows of a CSV text keyed by their ``id`` column, else by the fewest leading
    columns that tell the rows apart (e.g. ``gas/gwp_set``), else by line number."""
    reader = csv.DictReader(text.splitlines())
    header = list(reader.fieldnames or [])
    rows = [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    candidates = [["id"]] if "id" in header else []
    candidates += [header[:k] for k in range(1, len(header) + 1)]
    for columns in candidates:
        keys = ["/".join(row.get(c, "") for c in columns) for row in rows]
        if len(set(keys)) == len(keys):
            return header, dict(zip(keys, rows, strict=True))
    return header, {f"line {i}": row for i, row in enumerate(rows, start=2)}


def diff_table(name: str, logged: str, installed: str) -> list[str]:
    """Name every row that differs between two texts of table ``name``: the row key,
    the column and the values (logged → installed), rows removed or added."""
    _, old = _keyed_rows(logged)
    header, new = _keyed_rows(installed)
    out: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            out.append(f"{name} row {key} removed (was value {old[key].get('value', '')!r})")
        elif key not in old:
            out.append(f"{name} row {key} added (value {new[key].get('value', '')!r})")
        else:
            columns = header + [c for c in old[key] if c not in header]
            for column in columns:
                a, b = old[key].get(column, ""), new[key].get(column, "")
                if a != b:
                    out.append(f"{name} row {key} column {column}: {a!r} → {b!r}")
    if not out and logged != installed:
        out.append(f"{name}: the text differs (layout or order), no row value changed")
    return out


def check_factor_tables(connection: Connection, outcome: Outcome) -> None:
    """Compare each installed table with its newest logged release; name changed rows."""
    for name, releases in sorted(logged_releases(connection).items()):
        try:
            installed = tables.csv_text(name)
        except ReferenceDataError as error:
            outcome.add("factor_table_changed", f"table {name}: {error}")
            continue
        digest = sha256_text(installed)
        if digest in releases:
            continue
        index, payload = max(releases.values(), key=lambda found: found[0])
        text = str(payload.get("csv", ""))
        if sha256_text(text) != payload.get("sha256"):
            outcome.add(
                "factor_table_changed",
                f"table {name}: the logged text does not match the logged SHA-256 (leaf {index})",
            )
            continue
        for change in diff_table(name, text, installed):
            outcome.add(
                "factor_table_changed",
                f"{change} (installed {name}.csv SHA-256 {digest[:16]}…, logged release "
                f"{str(payload.get('sha256'))[:16]}… in leaf {index})",
            )


# ---------------------------------------------------------------- filings


def check_filings(connection: Connection, outcome: Outcome) -> None:
    """Compare the period locks with the ``filing`` leaves: the last leaf of a site-month
    says whether it is filed, by whom and when."""
    state: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for leaf in _leaves(connection, FILING_KIND):
        try:
            payload = json.loads(leaf.payload)
            state[(str(payload["site"]), str(payload["period"]))] = (
                int(leaf.leaf_index),
                payload,
            )
        except (ValueError, KeyError, TypeError):
            continue
    if not state:
        return
    pl = schema.period_locks
    locks = {(str(r.site_id), str(r.period)): r for r in connection.execute(select(pl))}
    for key in sorted(state.keys() | locks.keys()):
        site, period = key
        name = f"filing of {site} {period}"
        found, lock = state.get(key), locks.get(key)
        if found is None:
            assert lock is not None
            outcome.add(
                "filing_lock_added",
                f"{name}: locked by {lock.locked_by!r} but no filing leaf records it",
            )
            continue
        index, payload = found
        filed = payload.get("action") == "file"
        if lock is None:
            if filed:
                outcome.add(
                    "filing_lock_removed",
                    f"{name} (filed by {payload.get('by')!r}) was unlocked without a reopen "
                    f"(leaf {index})",
                )
            continue
        if not filed:
            outcome.add(
                "filing_lock_added",
                f"{name}: locked by {lock.locked_by!r} after it was reopened (leaf {index})",
            )
            continue
        changes = []
        if lock.locked_by != payload.get("by"):
            changes.append(f"locked_by {payload.get('by')!r} → {lock.locked_by!r}")
        if (lock.note or "") != (payload.get("reason") or ""):
            changes.append(f"note {payload.get('reason')!r} → {lock.note!r}")
        at = lock.locked_at
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        try:
            logged_at = dt.datetime.fromisoformat(str(payload.get("at")))
        except ValueError:
            logged_at = None
        if logged_at is not None and logged_at.tzinfo is not None and at != logged_at:
            changes.append(f"locked_at {logged_at.isoformat()} → {at.isoformat()}")
        if changes:
            outcome.add("filing_lock_changed", f"{name}: {'; '.join(changes)} (leaf {index})")


def verify_inputs(connection: Connection, outcome: Outcome) -> None:
    """Site-model versions, installed factor tables and period locks against their leaves."""
    check_site_models(connection, outcome)
    check_factor_tables(connection, outcome)
    check_filings(connection, outcome)


# ---------------------------------------------------------------- result inputs


def month_window(period: str, timezone: str) -> tuple[int, int] | None:
    """``[start, end)`` [µs since epoch] of the local month ``YYYY-MM``; None otherwise."""
    try:
        year, month = (int(part) for part in period.split("-"))
        zone = ZoneInfo(timezone)
        start = dt.datetime(year, month, 1, tzinfo=zone)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    except (ValueError, KeyError):
        return None
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micro = dt.timedelta(microseconds=1)
    return (start - epoch) // micro, (end - epoch) // micro


def readings_digest(
    connection: Connection, site: str, points: Iterable[str], window: tuple[int, int]
) -> tuple[str, int, list[int]]:
    """SHA-256 of the stored current readings of ``points`` (site keys) in ``window``,
    the count, and the ingest batches that hold them.

    Hashed: the canonical JSON of ``[point, ts_us, version, value, quality]`` rows in
    (point, ts) order — the newest version of each (point, ts) over ``reading`` and
    ``reading_staging``.
    """
    p = schema.point
    wanted = sorted(set(points))
    ids = {
        int(r.id): str(r.key)
        for r in connection.execute(
            select(p.c.id, p.c.key).where(p.c.site_key == site, p.c.key.in_(wanted))
        )
    }
    newest: dict[tuple[str, int], tuple[int, float, str, int]] = {}
    for table in (schema.reading, schema.reading_staging):
        if not ids:
            break
        query = select(
            table.c.point_id, table.c.ts_us, table.c.version, table.c.value, table.c.quality,
            table.c.batch_id,
        ).where(
            table.c.point_id.in_(sorted(ids)),
            table.c.ts_us >= window[0],
            table.c.ts_us < window[1],
        )  # fmt: skip
        for r in connection.execute(query):
            key = (ids[int(r.point_id)], int(r.ts_us))
            row = (int(r.version), float(r.value), str(r.quality), int(r.batch_id))
            if key not in newest or newest[key][0] < row[0]:
                newest[key] = row
    rows = [[pt, ts, v, value, q] for (pt, ts), (v, value, q, _) in sorted(newest.items())]
    batches = sorted({row[3] for row in newest.values()})
    return sha256_text(orjson.dumps(rows)), len(rows), batches


def manual_used(
    connection: Connection, site: str, series: Iterable[str], period: str
) -> list[list[Any]]:
    """``[ref, value]`` of the current manual entries of ``series`` overlapping the month."""
    wanted = sorted(set(series))
    if not wanted:
        return []
    try:
        year, month = (int(part) for part in period.split("-"))
    except ValueError:
        return []
    first, last = year * 10000 + month * 100 + 1, year * 10000 + month * 100 + 31
    t, s = schema.series_entry, schema.series
    out = []
    for r in connection.execute(
        select(t.c.period_start, t.c.period_end, t.c.version, t.c.value, s.c.key)
        .join(s, s.c.id == t.c.series_id)
        .where(
            s.c.site_key == site,
            s.c.key.in_(wanted),
            t.c.current.is_(True),
            t.c.period_start <= last,
            t.c.period_end >= first,
        )
    ):
        ref = manual_entry_ref(
            {"site": site, "series": r.key, "period_start": r.period_start,
             "period_end": r.period_end, "version": r.version}
        )  # fmt: skip
        out.append([ref, float(r.value)])
    return sorted(out)


def declarations_used(connection: Connection, site: str, source: str, period: str) -> list[Any]:
    d = schema.declaration
    out = []
    for r in connection.execute(
        select(d.c.id, d.c.kind, d.c.date_from, d.c.date_to, d.c.leaf_index).where(
            d.c.site_id == site, d.c.source_id == source
        )
    ):
        if str(r.date_from)[:7] <= period <= str(r.date_to)[:7]:
            out.append([int(r.id), str(r.kind), str(r.date_from), str(r.date_to), r.leaf_index])
    return sorted(out)


def _current_document(connection: Connection) -> tuple[int, str] | None:
    md = schema.model_document
    row = connection.execute(
        select(md.c.version_id, md.c.document).order_by(md.c.version_id.desc()).limit(1)
    ).first()
    return None if row is None else (int(row.version_id), str(row.document))


def source_refs(document: Mapping[str, Any], site: str, source: str) -> tuple[set[str], set[str]]:
    """The point and series keys a source of a site-model document reads."""
    points: set[str] = set()
    series: set[str] = set()

    def sites(node: Any) -> Iterable[Mapping[str, Any]]:
        if isinstance(node, Mapping):
            if node.get("id") == site and "sources" in node:
                yield node
            for value in node.values():
                yield from sites(value)
        elif isinstance(node, list):
            for value in node:
                yield from sites(value)

    for found in sites(document):
        for src in found.get("sources") or []:
            if not isinstance(src, Mapping) or src.get("id") != source:
                continue
            refs = list(src.get("activity") or []) + list((src.get("parameters") or {}).values())
            for ref in refs:
                if isinstance(ref, Mapping):
                    if ref.get("point"):
                        points.add(str(ref["point"]))
                    if ref.get("series"):
                        series.add(str(ref["series"]))
    return points, series


def _timezone(document: Mapping[str, Any], site: str) -> str:
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("id") == site and "timezone" in node:
                return str(node["timezone"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return "Asia/Shanghai"


_PARSED: dict[str, Any] = {}


def _source_use(digest: str, text: str, site: str, source: str) -> tuple[set[str], set[str], str]:
    """The points and series a source reads and its site's time zone, from the model
    document (parsed once per document digest)."""
    document = _PARSED.get(digest)
    if document is None:
        document = json.loads(text)
        _PARSED.clear()
        _PARSED[digest] = document
    points, series = source_refs(document, site, source)
    return points, series, _timezone(document, site)


def result_inputs(
    ledger: Ledger,
    connection: Connection,
    *,
    site: str,
    source: str,
    period: str,
    gwp: str | None,
) -> dict[str, Any]:
    """The ``"inputs"`` an ``emission_result`` leaf binds (logging any factor-table
    release not logged yet, in the same transaction)."""
    current = _current_document(connection)
    model: dict[str, Any] | None = None
    points: set[str] = set()
    series: set[str] = set()
    timezone = "Asia/Shanghai"
    if current is not None:
        version_id, text = current
        model = {"version_id": version_id, "document_sha256": sha256_text(text)}
        points, series, timezone = _source_use(model["document_sha256"], text, site, source)
    window = month_window(period, timezone)
    readings: dict[str, Any] | None = None
    if window is not None:
        digest, count, batches = readings_digest(connection, site, points, window)
        readings = {
            "points": sorted(points),
            "from_us": window[0],
            "to_us": window[1],
            "count": count,
            "sha256": digest,
            "batches": batches,
        }
    return {
        "site_model": model,
        "factor_tables": log_factor_tables(ledger, connection),
        "manual_entries": manual_used(connection, site, series, period),
        "declarations": declarations_used(connection, site, source, period),
        "readings": readings,
        "filed": _is_filed(connection, site, period),
        "settings": {"gwp": gwp},
    }


def _is_filed(connection: Connection, site: str, period: str) -> bool:
    pl = schema.period_locks
    return (
        connection.execute(
            select(pl.c.period).where(pl.c.site_id == site, pl.c.period == period)
        ).first()
        is not None
    )
