"""Manual data import: CSV/XLSX files of fuel invoices and stock changes, lab analyses
(NCV, carbon content) and production output, with a template per kind.

Every data row is checked on its own; bad rows are reported with their row number in
the file (header = row 1) and kept in quarantine, good rows are stored. Values are
converted to the series' unit (a unit of the wrong dimension is rejected).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import multiprocessing
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from tansuan.domain.units import factor
from tansuan.errors import InputError, PayloadTooLarge, UnitError
from tansuan.ingest.columns import Shared, columns_over, csv_records, rows_over
from tansuan.ingest.result import RowError
from tansuan.store import Store, schema
from tansuan.store.manual import Entry, write_entries
from tansuan.store.readings import quarantine
from tansuan.store.timeutil import day_of

COMMON = ("site", "series", "period_start", "period_end", "value", "unit", "document_ref")
#: kind -> (series kinds it may write, extra columns kept as attributes, example row)
KINDS: dict[str, tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = {
    "fuel": (
        frozenset({"fuel_purchase", "fuel_consumption", "stock_change"}),
        ("supplier", "note"),
        ("demo-site", "oil-invoices", "2026-10-01", "2026-10-31", "125.4", "t", "INV-2026-1031",
         "Sinopec Xiamen", ""),
    ),
    "lab": (
        frozenset({"lab_ncv", "lab_carbon_content", "lab_carbon_per_heat"}),
        ("sample_id", "laboratory", "standard", "note"),
        ("demo-site", "oil-ncv", "2026-10-01", "2026-10-31", "42.62", "GJ/t", "LAB-2026-10",
         "S-1031", "CMA lab", "GB/T 384", ""),
    ),
    "production": (
        frozenset({"production", "production_plan"}),
        ("product", "note"),
        ("demo-site", "output", "2026-10-01", "2026-10-31", "5200", "t", "PROD-2026-10",
         "steel plate", ""),
    ),
    "energy": (
        frozenset({"electricity_purchase", "heat_purchase", "green_certificate", "other"}),
        ("account", "supplier", "note"),
        ("demo-site", "grid-bills", "2026-10-01", "2026-10-31", "812.5", "MWh", "BILL-2026-10",
         "3500123456", "State Grid", ""),
    ),
}  # fmt: skip


def template(kind: str) -> str:
    """The CSV template of ``kind``: the header and one example row."""
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    _, extra, example = KINDS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COMMON, *extra))
    writer.writerow(example)
    return out.getvalue()


def write_template(kind: str, path: Path) -> None:
    """Write the template of ``kind`` as CSV, or as XLSX when ``path`` ends in .xlsx."""
    text = template(kind)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook  # deferred: openpyxl, only for XLSX templates

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = kind
        for row in csv.reader(io.StringIO(text)):
            sheet.append(row)
        book.save(path)
    else:
        path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class TableLimits:
    """Bounds of an uploaded table (None: unbounded, e.g. a local file on the command line).

    ``max_inflated_bytes``: most bytes an XLSX (a ZIP) may inflate to, declared or actual;
    ``max_rows``: most rows, header included; ``max_columns``: most columns of a row.
    """

    max_rows: int | None = None
    max_columns: int | None = None
    max_inflated_bytes: int | None = None


def read_table(name: str, data: bytes, limits: TableLimits = TableLimits()) -> list[list[Any]]:
    """Rows of a CSV or XLSX file (first row = header), read within ``limits``: a zip bomb,
    too many rows or too wide a row is a :class:`PayloadTooLarge` naming the limit, a row
    the CSV reader cannot split an :class:`InputError` naming the row."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(name, data, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: CSV must be UTF-8") from None
    return csv_records(text, max_rows=limits.max_rows, max_columns=limits.max_columns)


#: The process that reads uploaded workbooks for :func:`read_table_isolated` (made on
#: first use; one, so concurrent workbook uploads are read one after the other).
_xlsx_pool: ProcessPoolExecutor | None = None
_xlsx_pool_lock = threading.Lock()


def _xlsx_reader() -> ProcessPoolExecutor:
    global _xlsx_pool
    with _xlsx_pool_lock:
        if _xlsx_pool is None:
            _xlsx_pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _xlsx_pool


def read_table_isolated(
    name: str, data: bytes, limits: TableLimits = TableLimits()
) -> list[list[Any]]:
    """:func:`read_table` for a server: an XLSX is read in a separate process.

    openpyxl's XML parsing holds the interpreter lock for 0.1–0.4 s at a time (measured on
    a 25,000-row sheet), so read in a worker *thread* it still stalls the server's event
    loop for seconds; in another process it cannot. CSV is read here (the csv reader
    yields the lock between rows). Errors come back as the same :class:`InputError` /
    :class:`PayloadTooLarge`; if the reading process dies (e.g. killed for memory), the
    upload is refused and the next one gets a fresh process.
    """
    if not name.lower().endswith((".xlsx", ".xlsm")):
        return read_table(name, data, limits)
    pool = _xlsx_reader()
    try:
        return pool.submit(_xlsx_rows, name, data, limits).result()
    except BrokenProcessPool:
        global _xlsx_pool
        with _xlsx_pool_lock:
            if _xlsx_pool is pool:
                _xlsx_pool = None
        pool.shutdown(wait=False)
        raise InputError(
            f"{name}: the workbook could not be read (the process reading it ended)"
        ) from None


#: Bytes inflated per read while measuring an XLSX member's actual size.
_INFLATE_CHUNK = 1024 * 1024


def check_inflated(name: str, data: bytes, limit: int) -> None:
    """Refuse a ZIP (an XLSX) whose members inflate to more than ``limit`` bytes: first by
    the sizes it declares, then by inflating each member in chunks (nothing kept), so a
    member that lies about its size is caught too."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputError(f"{name} is not a readable XLSX workbook ({exc})") from None
    declared = sum(member.file_size for member in members)
    if declared > limit:
        raise _inflated_over(name, limit, declared)
    actual = 0
    try:
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(_INFLATE_CHUNK):
                    actual += len(chunk)
                    if actual > limit:
                        raise _inflated_over(name, limit, actual)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError) as exc:
        raise InputError(f"{name} is not a readable XLSX workbook ({exc})") from None


def _inflated_over(name: str, limit: int, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{name} 解压后超过 {limit} 字节（TANSUAN_UPLOAD_MAX_INFLATED_BYTES）/ {name} inflates "
        f"to more than {limit} bytes (at least {size}; TANSUAN_UPLOAD_MAX_INFLATED_BYTES)",
        field="file",
    )


def _xlsx_rows(name: str, data: bytes, limits: TableLimits) -> list[list[Any]]:
    if limits.max_inflated_bytes is not None:
        check_inflated(name, data, limits.max_inflated_bytes)
    from openpyxl import load_workbook  # deferred: openpyxl, only for XLSX files

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # openpyxl raises assorted errors on non-XLSX bytes
        raise InputError(f"{name} is not a readable XLSX workbook ({exc})") from None
    # The sheet's declared dimension (e.g. A1:XFD1048576) would pad every row to it;
    # read the cells actually present instead.
    reset = getattr(sheet, "reset_dimensions", None)
    if reset is not None:
        reset()
    out: list[list[Any]] = []
    try:
        for row in sheet.iter_rows(values_only=True):
            out.append(list(row))
            if limits.max_rows is not None and len(out) > limits.max_rows:
                raise rows_over(limits.max_rows)
            if limits.max_columns is not None and len(row) > limits.max_columns:
                raise columns_over(limits.max_columns, len(out))
    except InputError:
        raise
    except Exception as exc:  # a malformed sheet XML
        raise InputError(f"{name}: sheet row {len(out) + 1} cannot be read ({exc})") from None
    finally:
        book.close()
    return out


def _date(value: Any, column: str) -> int:
    if isinstance(value, dt.datetime):
        return day_of(value.date())
    if isinstance(value, dt.date):
        return day_of(value)
    text = str(value or "").strip()
    try:
        return day_of(dt.date.fromisoformat(text))
    except ValueError:
        raise InputError(f"{column} {text!r} is not a date YYYY-MM-DD", field=column) from None


def _month(text: str) -> tuple[int, int] | None:
    """``YYYY-MM`` as (first day, last day) of the month, else None."""
    try:
        first = dt.date.fromisoformat(f"{text.strip()}-01")
    except ValueError:
        return None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day_of(first), day_of(following - dt.timedelta(days=1))


@dataclass
class ImportResult:
    """What an import stored and rejected (row numbers as in the file, header = 1)."""

    kind: str
    batch_id: int | None
    rows: int
    new: int = 0
    duplicates: int = 0
    versioned: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Every batch the import wrote (one, or one per transaction of a background import).
    batch_ids: list[int] = field(default_factory=list)


def detect_kind(header: list[str]) -> str:
    """The template kind whose extra columns the header has."""
    for kind, (_, extra, _) in sorted(KINDS.items(), key=lambda kv: -len(kv[1][1])):
        if extra[0] in header:
            return kind
    raise InputError(
        "cannot tell the kind of file from its header; pass the kind "
        f"({', '.join(KINDS)}) or start from `tansuan import --template KIND`",
        field="header",
    )


def table_kind(header: list[str], kind: str | None = None) -> str:
    """The kind of a table with this (lower-cased) header; refuse an unknown kind or a
    header without the columns every kind needs."""
    kind = kind or detect_kind(header)
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    missing = [c for c in ("site", "series", "period_start", "value") if c not in header]
    if missing:
        raise InputError(f"header lacks column(s) {', '.join(missing)}", field="header")
    return kind


#: Called inside the import's transaction with the batch id and the entries it wrote
#: (the accounting engine marks the months they cover stale there).
EntryHook = Callable[[Connection, int, Sequence[Entry]], None]


def import_table(
    store: Store,
    rows: list[list[Any]],
    *,
    kind: str | None = None,
    source: str = "import",
    hooks: Sequence[EntryHook] = (),
    file_sha256: str | None = None,
) -> ImportResult:
    """Validate and store manual-data rows (first row = header) in one transaction.
    ``file_sha256``: the digest of the uploaded file the rows came from (each entry
    carries it to the hooks; the ledger hook logs it)."""
    prepared = prepare_table(store, rows, kind=kind, file_sha256=file_sha256)
    return write_prepared(store, prepared, source=source, hooks=hooks)


@dataclass
class Prepared:
    """A validated table: the entries to write and the rows refused (nothing written yet)."""

    result: ImportResult
    entries: list[Entry]


def prepare_table(
    store: Store,
    rows: list[list[Any]],
    *,
    kind: str | None = None,
    file_sha256: str | None = None,
) -> Prepared:
    """Check every row of a manual-data table (reads only; nothing is written): the
    entries of the good rows, the errors of the bad ones (row numbers as in the file)."""
    if not rows:
        raise InputError("文件为空 / the file is empty", field="row 1")
    header = [str(h or "").strip().lower() for h in rows[0]]
    kind = table_kind(header, kind)
    if not any(any(v not in (None, "") for v in raw) for raw in rows[1:]):
        raise InputError(
            "文件只有表头、没有数据行（第 2 行）/ the file has a header but no data rows "
            "(row 2 is missing)",
            field="row 2",
        )
    allowed, extra, _ = KINDS[kind]
    col = {name: i for i, name in enumerate(header) if name}
    s = schema.series
    with store.read() as connection:
        catalog = {
            (r.site_key, r.key): r
            for r in connection.execute(select(s).where(s.c.retired_at_us.is_(None)))
        }
    result = ImportResult(kind=kind, batch_id=None, rows=0)
    entries: list[Entry] = []
    shared = Shared()  # one object per repeated attrs text, not one per row
    seen: dict[tuple[int, int, int, int, str], int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in raw):
            continue
        result.rows += 1

        def get(name: str, raw: list[Any] = raw) -> Any:
            i = col.get(name)
            return raw[i] if i is not None and i < len(raw) else None

        site, key = str(get("site") or "").strip(), str(get("series") or "").strip()
        try:
            series = catalog.get((site, key))
            if series is None:
                raise _Reject("unknown_series", f"no series {key!r} in site {site!r}")
            if series.kind not in allowed:
                raise _Reject("wrong_kind", f"series {key!r} is {series.kind}, not a {kind} series")
            start_raw, end_raw = get("period_start"), get("period_end")
            month = _month(str(start_raw)) if isinstance(start_raw, str) else None
            if month and end_raw in (None, ""):
                start, end = month
            else:
                start = _date(start_raw, "period_start")
                end = start if end_raw in (None, "") else _date(end_raw, "period_end")
            if end < start:
                raise _Reject("bad_period", "period_end is before period_start")
            value_raw = get("value")
            try:
                value = float(value_raw if not isinstance(value_raw, str) else value_raw.strip())
            except (TypeError, ValueError):
                raise _Reject("bad_value", f"value {value_raw!r} is not a number") from None
            if not math.isfinite(value):
                raise _Reject("bad_value", f"value {value_raw!r} is not finite")
            if value < 0 and series.kind != "stock_change":
                raise _Reject("bad_value", "negative value (only stock changes may be < 0)")
            if value == 0 and series.kind != "stock_change" and not str(get("note") or "").strip():
                # Missing is not zero: a 0 is a statement that needs its reason.
                raise _Reject(
                    "zero_without_reason",
                    "a value of 0 needs a note saying why (e.g. no deliveries, shut down) / "
                    "数值为 0 须在 note 栏说明原因",
                )
            unit = str(get("unit") or "").strip() or series.unit
            if unit != series.unit:
                try:
                    value *= factor(unit, series.unit)
                except UnitError as exc:
                    raise _Reject("bad_unit", exc.message) from None
            doc_ref = str(get("document_ref") or "").strip()[:128]
            attrs = {n: str(get(n)).strip() for n in extra if get(n) not in (None, "")}
            ident = (series.site_id, series.id, start, end, doc_ref)
            if ident in seen:
                raise _Reject("conflict_in_file", f"same entry as row {seen[ident]}")
            seen[ident] = number
            entries.append(
                Entry(
                    site_id=series.site_id,
                    series_id=series.id,
                    period_start=start,
                    period_end=end,
                    document_ref=doc_ref,
                    value=value,
                    attrs=shared(orjson.dumps(attrs, option=orjson.OPT_SORT_KEYS).decode()),
                    file_sha256=file_sha256,
                )
            )
        except _Reject as reject:
            result.errors.append(RowError(number, site, key, reject.code, reject.detail))
        except InputError as exc:
            result.errors.append(RowError(number, site, key, "bad_date", exc.message))
    return Prepared(result, entries)


#: Pause [s] between two batches of a batched import: time for a waiting writer (another
#: organisation's ingest) to take the store's write lock.
BATCH_PAUSE_S = 0.01


def write_prepared(
    store: Store,
    prepared: Prepared,
    *,
    source: str = "import",
    hooks: Sequence[EntryHook] = (),
    batch_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write a prepared table: one transaction (``batch_rows`` None) or one per
    ``batch_rows`` entries, so the store's one writer is held for one batch at a time.

    Each transaction is a batch of its own (an ``ingest_batch`` row, its entries, the
    hooks' ledger leaves, all committed together); the refused rows are quarantined with
    the first. ``progress`` is called with the entries written so far after each commit.
    If a batch fails, the batches already committed stay (``result.batch_ids`` names
    them); sending the file again stores the rest (written rows count as duplicates).
    """
    result = prepared.result
    entries = prepared.entries
    size = batch_rows or max(1, len(entries))
    chunks = [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]
    done = 0
    for number, chunk in enumerate(chunks):
        errors = result.errors if number == 0 else []
        batch_id, counts = _write_batch(
            store, chunk, errors, kind=result.kind, source=source, hooks=hooks,
            n_rows=len(chunk) + len(errors),
        )  # fmt: skip
        result.batch_ids.append(batch_id)
        if result.batch_id is None:
            result.batch_id = batch_id
        result.new += counts[0]
        result.duplicates += counts[1]
        result.versioned += counts[2]
        done += len(chunk)
        if progress is not None:
            progress(done)
        if number + 1 < len(chunks):
            # Let a writer waiting on the lock in (the lock is not fair: without a pause
            # this thread would take it back at once and other ingest would wait on).
            time.sleep(BATCH_PAUSE_S)
    return result


def _write_batch(
    store: Store,
    entries: Sequence[Entry],
    errors: Sequence[RowError],
    *,
    kind: str,
    source: str,
    hooks: Sequence[EntryHook],
    n_rows: int,
) -> tuple[int, tuple[int, int, int]]:
    """One transaction: the batch row, its entries, the hooks, the quarantined rows."""

    now_us = time.time_ns() // 1000
    b = schema.ingest_batch
    with store.write() as connection:
        batch_id = int(
            connection.execute(
                b.insert()
                .values(
                    received_at_us=now_us,
                    source=f"manual:{source}:{kind}"[:64],
                    n_rows=n_rows,
                    n_new=0,
                    n_duplicate=0,
                    n_versioned=0,
                    n_rejected=len(errors),
                )
                .returning(b.c.id)
            ).scalar_one()
        )
        new, duplicates, versioned = write_entries(connection, entries, batch_id, now_us)
        for hook in hooks:
            hook(connection, batch_id, entries)
        connection.execute(
            b.update()
            .where(b.c.id == batch_id)
            .values(n_new=new, n_duplicate=duplicates, n_versioned=versioned)
        )
        quarantine(
            connection,
            (
                {
                    "batch_id": batch_id,
                    "row_index": e.index,
                    "site_key": e.site,
                    "point_key": e.point,
                    "reason": e.code,
                    "detail": e.detail,
                }
                for e in errors
            ),
        )
    return batch_id, (new, duplicates, versioned)


def import_file(
    store: Store, path: Path, *, kind: str | None = None, hooks: Sequence[EntryHook] = ()
) -> ImportResult:
    """Import a CSV or XLSX file of manual data."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return import_table(
        store,
        read_table(path.name, data),
        kind=kind,
        source="import",
        hooks=hooks,
        file_sha256=hashlib.sha256(data).hexdigest(),
    )


class _Reject(Exception):
    def __init__(self, code: str, detail: str) -> None:
        self.code, self.detail = code, detail
