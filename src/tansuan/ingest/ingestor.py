"""The one entry for readings: validate, normalise, dedupe, store, roll up, commit.

Every gateway and upload calls :meth:`Ingestor.ingest` (``Reading`` objects) or the
columnar :meth:`Ingestor.ingest_columns` (HTTP/CSV bulk); both run the same code.
A call returns only after its batch is durably committed, and is all-or-nothing:
rows, versions, rollups, quarantine and the batch's ledger leaf (``batch_hooks``)
commit together. Rejected rows are reported row by row and kept in ``quarantine``;
they never block the good rows.

How it stays fast (DESIGN.md "Performance notes"): everything is vectorised per batch;
rows newer than everything stored for their point (the usual case) are appended to a
time-ordered staging table and their rollups merged once per (point, hour/day) per
batch; the staging table is compacted into the (site, point, ts)-keyed table every
``compact_rows`` rows (SQLite; PostgreSQL appends to its heap anyway, so there the
rows are COPied straight into the monthly partitions of ``reading``). A per-point
high-water mark (newest stored ts, last valid value)
kept in memory tells new rows from late ones without reading the database; it is
trusted only while no other process has written a batch since (checked per batch).
Late, duplicate and corrected rows take the slow path: staged rows are compacted, the
stored neighbours are read, and the affected buckets are recomputed from raw readings
(only those buckets of those points). What is written is computed in
:mod:`tansuan.ingest.rebuild`, which ``tansuan verify`` uses to recompute the rollups.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select, update

from tansuan.domain.units import factor
from tansuan.errors import InputError, UnitError
from tansuan.ingest.batch import Rows, Stored, flag_at, item_at
from tansuan.ingest.points import Catalog
from tansuan.ingest.reading import INVALID_FLAGS, QUALITY_FLAGS, Reading
from tansuan.ingest.rebuild import MISSING, rebuild_point, rollup_rows
from tansuan.ingest.result import BatchHook, IngestResult, RowError
from tansuan.store import readings as rs
from tansuan.store import schema
from tansuan.store.database import Store
from tansuan.store.rollups import TOTAL_INCREASING, suspicious
from tansuan.store.timeutil import DAY_US, from_us, to_us

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
#: Seconds between checks for a newly loaded site model.
CATALOG_CHECK_S = 1.0


#: Late rows of one point further apart than this [µs] are merged as separate clusters
#: (read back and rebuilt span by span): one day.
LATE_CLUSTER_GAP_US = DAY_US


class Ingestor:
    """Validates and stores batches of readings; safe to call from several threads.

    Parameters
    ----------
    store : the store to write to.
    batch_hooks : called as ``hook(connection, batch_id, rows)`` inside each batch's
        transaction just before commit (the ledger appends its leaf there); called for
        every batch, so ``rows`` is empty when all rows were duplicates or rejected. A
        hook that raises rolls the whole batch back.
    max_future_s : readings further than this in the future are rejected [s].
    compact_rows : staged rows that trigger a compaction into the keyed table.
    min_ts_us : readings before this instant are rejected (a garbage timestamp must not
        make PostgreSQL create decades of monthly partitions) [epoch µs, default 2000-01-01].
    """

    def __init__(
        self,
        store: Store,
        *,
        batch_hooks: Sequence[BatchHook] = (),
        max_future_s: float = 3600.0,
        compact_rows: int = 200_000,
        min_ts_us: int = 946_684_800_000_000,
    ) -> None:
        self.store = store
        self.batch_hooks = tuple(batch_hooks)
        self.max_future_us = int(max_future_s * 1_000_000)
        self.compact_rows = compact_rows
        self.min_ts_us = min_ts_us
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._catalog_checked = 0.0
        # point id -> (newest stored ts, last accepted ts, last accepted value, a counter
        # drop waits for its confirmation)
        self._state: dict[int, tuple[int, int, float, bool]] = {}
        self._last_batch: int | None = None
        self._staged: int | None = None  # None: unknown, compact before trusting lookups
        self._written = 0
        self._analyze_at = compact_rows

    # --- public entries ---------------------------------------------------------------

    def ingest(self, readings: Sequence[Reading], *, source: str = "api") -> IngestResult:
        """Store a batch of readings; returns after commit with per-row errors."""
        n = len(readings)
        ts = np.zeros(n, dtype=np.int64)
        values = np.zeros(n, dtype=np.float64)
        errors: list[RowError] = []
        for i, r in enumerate(readings):
            try:
                ts[i] = to_us(r.ts)
            except (InputError, AttributeError, TypeError):
                errors.append(RowError(i, r.site, r.point, "bad_timestamp", f"bad ts {r.ts!r}"))
                continue
            try:
                values[i] = float(r.value)
            except (TypeError, ValueError):
                errors.append(RowError(i, r.site, r.point, "bad_value", f"bad value {r.value!r}"))
                continue
            if r.refused is not None:  # the gateway's reason: quarantined, never stored
                errors.append(RowError(i, r.site, r.point, *r.refused))
        return self.ingest_columns(
            [r.site for r in readings],
            [r.point for r in readings],
            ts,
            values,
            unit=[r.unit for r in readings],
            quality=[r.quality for r in readings],
            source=source,
            errors=errors,
        )

    def ingest_columns(
        self,
        site: str | Sequence[str],
        point: Sequence[str],
        ts_us: Sequence[int] | I64,
        value: Sequence[float] | F64,
        *,
        unit: str | Sequence[str | None] | None = None,
        quality: str | Sequence[str] | None = None,
        source: str = "api",
        errors: Sequence[RowError] = (),
    ) -> IngestResult:
        """Store a batch given as columns (the fast path for HTTP and files).

        ``ts_us`` are epoch microseconds (UTC); ``unit``/``quality`` may be one value
        for all rows. Rows listed in ``errors`` (found by the caller's parser) are
        rejected with that error and their column values ignored.
        """
        n = len(point)
        ts = np.asarray(ts_us, dtype=np.int64)
        val = np.asarray(value, dtype=np.float64)
        if ts.shape != (n,) or val.shape != (n,):
            raise InputError("point, ts and value columns must have the same length")
        catalog = self._fresh_catalog()
        entry = catalog.lookup(site, point)
        if (entry < 0).any():
            catalog = self._fresh_catalog(force=True)
            entry = catalog.lookup(site, point)
        reject: dict[int, tuple[str, str]] = {e.index: (e.code, e.detail) for e in errors}
        known = entry >= 0
        for i in np.flatnonzero(~known).tolist():
            reject.setdefault(i, ("unknown_point", "no such point in the loaded site model"))
        safe = np.where(known, entry, 0)
        conv = val * self._factors(catalog, safe, known, unit, reject)
        flags = self._flags(quality, n, reject)
        if isinstance(flags, str):
            valid = np.full(n, flags not in INVALID_FLAGS)
        else:
            valid = np.fromiter((f not in INVALID_FLAGS for f in flags), dtype=bool, count=n)
        bad = ~np.isfinite(conv)
        checked = (
            flags != "T"
            if isinstance(flags, str)
            else np.array([f != "T" for f in flags], dtype=bool)  # bool even when empty
        )
        low = conv < catalog.range_min[safe]
        high = conv > catalog.range_max[safe]
        now_us = time.time_ns() // 1000
        for i in np.flatnonzero(known & bad).tolist():
            reject.setdefault(i, ("bad_value", f"value {val[i]!r} is not a finite number"))
        for i in np.flatnonzero(known & checked & (low | high)).tolist():
            c = int(safe[i])
            reject.setdefault(
                i,
                (
                    "out_of_range",
                    f"{conv[i]:g} {catalog.unit[c]} outside valid_range "
                    f"[{catalog.range_min[c]:g}, {catalog.range_max[c]:g}]",
                ),
            )
        for i in np.flatnonzero(known & (ts > now_us + self.max_future_us)).tolist():
            reject.setdefault(i, ("future_timestamp", "timestamp is in the future"))
        for i in np.flatnonzero(known & (ts < self.min_ts_us)).tolist():
            reject.setdefault(i, ("bad_timestamp", f"timestamp before {from_us(self.min_ts_us)}"))
        for i in np.flatnonzero(known & (ts >= catalog.retired_at_us[safe])).tolist():
            reject.setdefault(i, ("retired_point", "the point was retired before this time"))

        ok = np.ones(n, dtype=bool)
        if reject:
            ok[list(reject)] = False
        keep = np.flatnonzero(ok)
        order = keep[np.lexsort((ts[keep], catalog.point_id[entry[keep]]))]
        # Same (point, ts) twice in the batch (the sort is stable: rows keep the order
        # they were sent in): identical to the occurrence before -> duplicate; different
        # -> the next version, exactly as if it had been sent in a batch of its own after
        # the one before (round n+1 of the batch, see _commit_locked). The outcome does
        # not depend on how a gateway's group commit happened to batch the uploads.
        pid = catalog.point_id[entry[order]]
        t = ts[order]
        same = np.zeros(order.size, dtype=bool)
        same[1:] = (pid[1:] == pid[:-1]) & (t[1:] == t[:-1])
        in_batch_dups = 0
        rounds = np.zeros(order.size, dtype=np.int64)
        if same.any():
            drop = np.zeros(order.size, dtype=bool)
            for j in np.flatnonzero(same).tolist():
                b = int(order[j])
                base = j - 1
                while drop[base]:
                    base -= 1
                a = int(order[base])
                if conv[a] == conv[b] and flag_at(flags, a) == flag_at(flags, b):
                    in_batch_dups += 1
                    drop[j] = True
                else:
                    rounds[j] = rounds[base] + 1
            order, rounds = order[~drop], rounds[~drop]
        by_round = [order[rounds == r] for r in range(int(rounds.max(initial=0)) + 1)]
        rows, *again = (
            Rows(
                entry=entry[o],
                ts=ts[o],
                value=conv[o],
                quality=[flag_at(flags, i) for i in o.tolist()],
                valid=valid[o],
            )
            for o in by_round
        )
        row_errors = [
            RowError(i, item_at(site, i), point[i], code, detail)
            for i, (code, detail) in sorted(reject.items())
        ]
        quarantined = [
            {
                "row_index": e.index,
                "site_key": e.site,
                "point_key": e.point,
                "ts_us": None if e.code in ("bad_timestamp", "bad_row") else int(ts[e.index]),
                "value": float(val[e.index]) if np.isfinite(val[e.index]) else None,
                "unit": item_at(unit, e.index),
                "quality": None if quality is None else str(item_at(quality, e.index))[:8],
                "reason": e.code,
                "detail": e.detail,
            }
            for e in row_errors
        ]
        result = IngestResult(batch_id=None, received=n, duplicates=in_batch_dups)
        result.errors = row_errors
        self._commit(catalog, rows, quarantined, result, source, again)
        return result

    def replace_meter(
        self,
        site: str,
        point: str,
        at_us: int,
        final: float,
        initial: float,
        reason: str,
        *,
        by: str = "",
        hooks: Sequence[Callable[[Connection, dict[str, Any]], None]] = (),
    ) -> dict[str, Any]:
        """Declare that a counter's meter was replaced at ``at_us``: the old register read
        ``final`` then, the new one ``initial`` [the point's unit]. Rebuilds the point's
        rollups around it and calls ``hooks(connection, payload)`` (ledger leaf, stale
        marks) in the same transaction. Bad input raises :class:`InputError` and stores
        nothing."""
        catalog = self._fresh_catalog(force=True)
        c = catalog.index.get(site, {}).get(point)
        if c is None:
            raise InputError(f"no point {point!r} in site {site!r}", field="point")
        if catalog.kind[c] != TOTAL_INCREASING:
            raise InputError(
                f"{point} is not a counter (kind total_increasing): nothing to replace",
                field="point",
            )
        reason = reason.strip()
        if not reason:
            raise InputError("give the reason of the replacement", field="reason")
        unit = catalog.unit[c]
        for name, value in (("final", final), ("initial", initial)):
            if not np.isfinite(value) or value < 0:
                raise InputError(f"{name} must be a reading ≥ 0, got {value!r}", field=name)
            wrap = float(catalog.rollover[c])
            if not np.isnan(wrap) and value >= wrap:
                raise InputError(
                    f"{name} {value:g} {unit} is not below the register's rollover {wrap:g}",
                    field=name,
                )
        if at_us > time.time_ns() // 1000 + self.max_future_us:
            raise InputError(f"{from_us(at_us).isoformat()} is in the future", field="at")
        p, site_id = int(catalog.point_id[c]), int(catalog.site_id[c])
        payload: dict[str, Any] = {
            "site": site,
            "point": point,
            "at_us": at_us,
            "final": final,
            "initial": initial,
            "unit": unit,
            "reason": reason,
            "by": by,
        }
        with self._lock:
            try:
                with self.store.write() as connection:
                    rs.compact(connection)
                    self._staged = 0
                    if rs.replacements(connection, site_id, p, at_us - 1, at_us + 1):
                        raise InputError(
                            f"a replacement of {point} at {from_us(at_us).isoformat()} is "
                            "already declared",
                            field="at",
                        )
                    before = rs.prev_accepted(connection, site_id, p, at_us + 1, 1)
                    if before and before[0][1] > final:
                        raise InputError(
                            f"final reading {final:g} {unit} is below the old meter's reading "
                            f"{before[0][1]:g} {unit} at {from_us(before[0][0]).isoformat()}",
                            field="final",
                        )
                    connection.execute(
                        schema.meter_replacement.insert().values(
                            site_id=site_id,
                            point_id=p,
                            at_us=at_us,
                            final=final,
                            initial=initial,
                            reason=reason,
                            recorded_at_us=time.time_ns() // 1000,
                        )
                    )
                    self._recompute(connection, catalog, c, at_us, at_us)
                    for hook in hooks:
                        hook(connection, payload)
            finally:
                self._state.pop(p, None)
        return payload

    # --- validation helpers -----------------------------------------------------------

    def _fresh_catalog(self, *, force: bool = False) -> Catalog:
        """The point catalog, re-read when a newer site model was loaded (checked at most
        once per ``CATALOG_CHECK_S``, or at once when ``force``)."""
        catalog = self._catalog
        now = time.monotonic()
        if catalog is not None and not force and now - self._catalog_checked < CATALOG_CHECK_S:
            return catalog
        with self.store.read() as connection:
            version = connection.execute(select(func.max(schema.model_version.c.id))).scalar()
            if catalog is None or catalog.model_version != (version or 0):
                catalog = Catalog.read(connection)
        self._catalog, self._catalog_checked = catalog, now
        return catalog

    def refresh(self) -> None:
        """Re-read the point catalog (after a site model was loaded)."""
        self._catalog = None

    @staticmethod
    def _factors(
        catalog: Catalog,
        safe: I64,
        known: npt.NDArray[np.bool_],
        unit: str | Sequence[str | None] | None,
        reject: dict[int, tuple[str, str]],
    ) -> F64 | float:
        if unit is None:
            return 1.0
        n = safe.size
        out = np.ones(n, dtype=np.float64)
        cache: dict[tuple[str, str], float | str] = {}
        units = itertools.repeat(unit, n) if isinstance(unit, str) else unit
        for i, (u, c, k) in enumerate(zip(units, safe.tolist(), known.tolist(), strict=True)):
            if u is None or not k:
                continue
            target = catalog.unit[c]
            if u == target:
                continue
            got = cache.get((u, target))
            if got is None:
                try:
                    got = factor(u, target)
                except UnitError as exc:
                    got = exc.message
                cache[(u, target)] = got
            if isinstance(got, str):
                reject.setdefault(i, ("bad_unit", got))
            else:
                out[i] = got
        return out

    @staticmethod
    def _flags(
        quality: str | Sequence[str] | None, n: int, reject: dict[int, tuple[str, str]]
    ) -> Any:
        if quality is None:
            return "N"
        if isinstance(quality, str):
            if quality not in QUALITY_FLAGS:
                for i in range(n):
                    reject.setdefault(i, ("bad_quality", f"quality flag {quality!r}"))
            return quality
        flags = list(quality)
        for i, flag in enumerate(flags):
            if flag not in QUALITY_FLAGS:
                reject.setdefault(i, ("bad_quality", f"quality flag {flag!r}"))
                flags[i] = "N"
        return np.array(flags, dtype="<U1")

    # --- the transaction --------------------------------------------------------------

    def _commit(
        self,
        catalog: Catalog,
        rows: Rows,
        quarantined: list[dict[str, Any]],
        result: IngestResult,
        source: str,
        again: Sequence[Rows] = (),
    ) -> None:
        with self._lock:
            try:
                self._commit_locked(catalog, rows, quarantined, result, source, again)
            except BaseException:
                self._state.clear()
                self._last_batch = None
                self._staged = None
                rs.forget_partitions()
                raise

    def _commit_locked(
        self,
        catalog: Catalog,
        rows: Rows,
        quarantined: list[dict[str, Any]],
        result: IngestResult,
        source: str,
        again: Sequence[Rows] = (),
    ) -> None:
        """Store ``rows``, then each of ``again`` (later, different readings of a (point,
        ts) already in ``rows`` or the round before: new versions), in one transaction."""
        b = schema.ingest_batch
        updates: dict[int, tuple[int, int, float, bool]] = {}
        staged = 0
        with self.store.write() as connection:
            newest = connection.execute(select(func.max(b.c.id))).scalar()
            if newest != self._last_batch:  # another process wrote: forget what we knew
                self._state.clear()
                self._staged = None
            if self._staged is None:
                rs.compact(connection)
                self._staged = 0
            batch_id = int(
                connection.execute(
                    b.insert()
                    .values(
                        received_at_us=time.time_ns() // 1000,
                        source=source[:64],
                        n_rows=result.received,
                        n_new=0,
                        n_duplicate=0,
                        n_versioned=0,
                        n_rejected=result.rejected,
                    )
                    .returning(b.c.id)
                ).scalar_one()
            )
            result.batch_id = batch_id
            pid = catalog.point_id[rows.entry]
            late_points = self._late_points(connection, catalog, rows, pid)
            fast = ~np.isin(pid, late_points) if late_points.size else np.ones(pid.size, bool)
            stored = Stored()
            if late_points.size:
                if self._staged:
                    rs.compact(connection)
                    self._staged = 0
                self._merge_late(connection, catalog, rows.take(~fast), batch_id, stored, result)
            if fast.any():
                staged = self._append(connection, catalog, rows.take(fast), batch_id, stored)
            for later in again:  # all late: their (point, ts) was just stored
                if staged or self._staged:
                    rs.compact(connection)
                    self._staged = staged = 0
                self._merge_late(connection, catalog, later, batch_id, stored, result)
            updates.update(stored.state)
            result.new += stored.new
            if quarantined:
                for row in quarantined:
                    row["batch_id"] = batch_id
                rs.quarantine(connection, quarantined)
            connection.execute(
                update(b)
                .where(b.c.id == batch_id)
                .values(
                    n_new=result.new, n_duplicate=result.duplicates, n_versioned=result.versioned
                )
            )
            if self.batch_hooks:
                batch = stored.batch_rows(catalog)
                for hook in self.batch_hooks:
                    hook(connection, batch_id, batch)
            if (self._staged or 0) + staged >= self.compact_rows:
                rs.compact(connection)
                self._staged = staged = 0
            # Planner statistics after bulk loads: at 200k, 2M, 20M, … rows written by
            # this process (DESIGN.md: a rollup query went 1.6 s -> 14 ms).
            self._written += stored.new + result.versioned
            if self._written >= self._analyze_at:
                rs.analyze(connection)
                self._analyze_at *= 10
        self._state.update(updates)
        self._staged = (self._staged or 0) + staged
        self._last_batch = batch_id

    def _late_points(self, connection: Connection, catalog: Catalog, rows: Rows, pid: I64) -> I64:
        """Points with a row at or before their newest stored reading, and counters whose
        rows are not all plain, plausible increases (or that wait for a drop to be
        decided): these take the slow path, which classifies with look-ahead."""
        if pid.size == 0:
            return pid
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        late: list[int] = []
        for s in starts.tolist():
            p = int(pid[s])
            state = self._state.get(p)
            if state is None:
                state = self._stored_state(connection, catalog, p)
                self._state[p] = state
            if int(rows.ts[s]) <= state[0] or state[3]:
                late.append(p)
        counter = catalog.kind[rows.entry] == TOTAL_INCREASING
        if counter.any():
            prev_ts = np.array([self._state[p][1] for p in pid.tolist()], dtype=np.int64)
            previous = np.array([self._state[p][2] for p in pid.tolist()], dtype=np.float64)
            odd = suspicious(
                pid,
                rows.ts,
                rows.value,
                rows.valid,
                catalog.kind[rows.entry],
                catalog.max_per_hour[rows.entry],
                prev_ts,
                previous,
            )
            late.extend(np.unique(pid[odd]).tolist())
        return np.unique(np.array(late, dtype=np.int64))

    @staticmethod
    def _stored_state(
        connection: Connection, catalog: Catalog, p: int
    ) -> tuple[int, int, float, bool]:
        c = catalog.by_point_id[p]
        site_id = int(catalog.site_id[c])
        newest, accepted = rs.high_water(connection, site_id, p)
        pending = catalog.kind[c] == TOTAL_INCREASING and (
            rs.has_pending(connection, site_id, p)
            or rs.replaced_after(
                connection, site_id, p, MISSING if accepted is None else accepted[0]
            )
        )
        return (
            MISSING if newest is None else newest,
            MISSING if accepted is None else accepted[0],
            np.nan if accepted is None else accepted[1],
            bool(pending),
        )

    def _append(
        self, connection: Connection, catalog: Catalog, rows: Rows, batch_id: int, out: Stored
    ) -> int:
        """New rows after each point's newest reading: stage them, merge their rollups."""
        pid = catalog.point_id[rows.entry]
        site_id = catalog.site_id[rows.entry]
        prev_ts = np.array([self._state[p][1] for p in pid.tolist()], dtype=np.int64)
        previous = np.array([self._state[p][2] for p in pid.tolist()], dtype=np.float64)
        self._rollup(connection, catalog, rows, prev_ts, previous, merge=True)
        if rs.is_pg(connection):
            # PostgreSQL appends to the heap anyway: COPY straight into the partitions.
            rs.ensure_partitions(connection, int(rows.ts.min()), int(rows.ts.max()))
            target = "reading"
        else:
            target = "reading_staging"
        rs.insert_readings(
            connection, target, site_id, pid, rows.ts, rows.value, rows.quality, batch_id
        )
        out.add(rows, np.ones(pid.size, dtype=np.int64))
        # New high-water marks.
        ends = np.flatnonzero(np.r_[pid[1:] != pid[:-1], True])
        starts = np.r_[0, ends[:-1] + 1]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            p = int(pid[s])
            newest, lv_ts, lv_value, pending = self._state[p]
            valid_idx = np.flatnonzero(rows.valid[s : e + 1])
            if valid_idx.size:
                k = s + int(valid_idx[-1])
                lv_ts, lv_value = int(rows.ts[k]), float(rows.value[k])
            out.state[p] = (int(rows.ts[e]), lv_ts, lv_value, pending)
        out.new += pid.size
        return pid.size if target == "reading_staging" else 0

    def _rollup(
        self,
        connection: Connection,
        catalog: Catalog,
        rows: Rows,
        prev_ts: I64,
        previous: F64,
        *,
        merge: bool,
        hour_window: tuple[int, int] | None = None,
        day_window: tuple[int, int] | None = None,
        classified: tuple[F64, I64, npt.NDArray[np.bool_]] | None = None,
        extra: list[tuple[int, int, float]] | None = None,
    ) -> None:
        """Write the hour and day buckets of ``rows`` (:func:`~tansuan.ingest.rebuild.
        rollup_rows`): merged into the stored ones, or replacing a window's."""
        hour_rows, day_rows = rollup_rows(
            catalog,
            rows,
            prev_ts,
            previous,
            hour_window=hour_window,
            day_window=day_window,
            classified=classified,
            extra=extra,
        )
        points = {int(catalog.point_id[c]): int(catalog.site_id[c]) for c in np.unique(rows.entry)}
        for table, window, out in (
            (schema.rollup_hour, hour_window, hour_rows),
            (schema.rollup_day, day_window, day_rows),
        ):
            if window is not None:
                for p, site_id in points.items():
                    rs.delete_rollups(connection, table, site_id, p, window[0], window[1])
            rs.upsert_rollups(connection, table, out, merge=merge)

    def _merge_late(
        self,
        connection: Connection,
        catalog: Catalog,
        rows: Rows,
        batch_id: int,
        out: Stored,
        result: IngestResult,
    ) -> None:
        """Rows of points with late data: dedupe against storage, version, recompute."""
        pid = catalog.point_id[rows.entry]
        ends = np.flatnonzero(np.r_[pid[1:] != pid[:-1], True])
        starts = np.r_[0, ends[:-1] + 1]
        rs.ensure_partitions(connection, int(rows.ts.min()), int(rows.ts.max()))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            p = int(pid[s])
            c = catalog.by_point_id[p]
            site_id = int(catalog.site_id[c])
            # The point's rows (sorted by ts) in clusters separated by more than
            # LATE_CLUSTER_GAP_US: each cluster reads back and rebuilds only its own span,
            # so late readings scattered over a year cost the days they touch, not the
            # whole year's stored readings (memory and time; issue 17's soak).
            ts_p = rows.ts[s : e + 1]
            cuts = np.flatnonzero(np.diff(ts_p) > LATE_CLUSTER_GAP_US) + 1
            bounds = list(
                zip(np.r_[0, cuts].tolist(), np.r_[cuts, ts_p.size].tolist(), strict=True)
            )
            keep = np.zeros(e + 1 - s, dtype=bool)
            versions = np.ones(e + 1 - s, dtype=np.int64)
            touched: list[tuple[int, int]] = []
            for a, b in bounds:
                lo, hi = int(ts_p[a]), int(ts_p[b - 1])
                stored = {r[0]: r for r in rs.fetch_range(connection, site_id, p, lo, hi + 1)}
                new: list[rs.Row] = []
                old: list[rs.Row] = []
                changed: list[rs.Row] = []
                for j in range(s + a, s + b):
                    ts, value, flag = int(rows.ts[j]), float(rows.value[j]), rows.quality[j]
                    have = stored.get(ts)
                    if have is None:
                        new.append((site_id, p, ts, value, flag, batch_id, 1))
                        keep[j - s] = True
                    elif have[1] == value and have[2] == flag:
                        result.duplicates += 1
                    else:
                        version = have[3] + 1
                        old.append((site_id, p, ts, have[1], have[2], have[4], have[3]))
                        changed.append((site_id, p, ts, value, flag, batch_id, version))
                        keep[j - s] = True
                        versions[j - s] = version
                rs.bulk_insert(connection, "reading", new)
                rs.supersede(connection, old, changed, batch_id)
                out.new += len(new)
                result.versioned += len(changed)
                if new or changed:
                    touched.append((lo, hi))
            mine = rows.take(np.r_[np.zeros(s, bool), keep, np.zeros(pid.size - e - 1, bool)])
            out.add(mine, versions[keep])
            # Rebuilt after every cluster's readings are in: each window is computed from
            # the same final readings, so overlapping windows (a counter's) agree.
            for lo, hi in touched:
                self._recompute(connection, catalog, c, lo, hi)
            out.state[p] = self._stored_state(connection, catalog, p)

    def _recompute(
        self, connection: Connection, catalog: Catalog, c: int, lo: int, hi: int
    ) -> None:
        """Rebuild the hour and day buckets (and a counter's flags) of one point touched by
        rows in ``[lo, hi]`` (:func:`~tansuan.ingest.rebuild.rebuild_point`)."""
        rebuilt = rebuild_point(connection, catalog, c, lo, hi)
        site_id, p = rebuilt.site_id, rebuilt.point_id
        if rebuilt.flags is not None:
            rs.replace_flags(
                connection, site_id, p, rebuilt.flag_start, rebuilt.flag_end, rebuilt.flags
            )
        for table, (lo_b, hi_b), out in (
            (schema.rollup_hour, rebuilt.hour_window, rebuilt.hour_rows),
            (schema.rollup_day, rebuilt.day_window, rebuilt.day_rows),
        ):
            rs.delete_rollups(connection, table, site_id, p, lo_b, hi_b)
            rs.upsert_rollups(connection, table, out, merge=False)
