"""Pack benchmark: ``write_pack`` of a 300-point site at 1-minute data, against the bare
cost of writing the same bytes with zipfile and hashing them.

Prints one JSON line. Progress goes to stderr (Rich).

    .venv/bin/python bench/pack.py                  # 300 points × 2 days (864 k readings)
    .venv/bin/python bench/pack.py --days 7

A full site-year is 300 × 525,600 = 157.68 M readings; loading that through ingest alone
takes longer than the bench is worth, so the bench packs ``--days`` days (batches of 10
minutes × all points, through the real ``Ingestor`` with the platform's ledger hook, on
SQLite) and extrapolates linearly to the year (the writer streams batch by batch; its
only whole-log structure is the in-memory Merkle tree of the log's leaf hashes, ~100
bytes a leaf, 52,560 batch leaves in a year at this batch size).

Figures:

* ``pack_s`` — ``write_pack`` of the year (which holds exactly the ``--days`` loaded);
  ``pack_readings_per_s``; ``pack_bytes``; ``year_pack_s_extrapolated`` = 157.68 M /
  ``pack_readings_per_s`` (target < 30 s, issue 16);
* ``bare_zip_s`` — the same member bytes written with ``zipfile`` alone (same
  compression per member) and ``bare_sha256_s`` hashing them once;
  ``year_bare_s_extrapolated`` the two scaled the same way;
* ``check_s`` — ``check_pack`` (the pack's ``check.py``) of the same pack;
* ``ingest_s`` — loading the data (not part of the target).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True)
YEAR_READINGS = 300 * 525_600
US = 1_000_000


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _model(points: list[str]):  # type: ignore[no-untyped-def]
    from tansuan.site.model import SiteModel

    device = {
        "id": "d",
        "class": "meter",
        "points": [{"id": p, "quantity": "power", "unit": "kW"} for p in points],
    }
    areas = [{"id": "a", "devices": [device]}]
    site = {"id": "site-1", "timezone": "Asia/Shanghai", "areas": areas}
    return SiteModel.model_validate(
        {"organisation": {"id": "org", "companies": [{"id": "co", "sites": [site]}]}}
    )


def main() -> None:
    from tansuan.ingest.ingestor import Ingestor
    from tansuan.ledger.log import Ledger
    from tansuan.ledger.pack import write_pack
    from tansuan.ledger.pack_check import check_pack
    from tansuan.ledger.signing import key_dir, load_or_create_key
    from tansuan.platform import ledger_batch_hook
    from tansuan.store import Store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        points = [f"p{i:04d}" for i in range(args.points)]
        store = Store(f"sqlite:///{directory / 'bench.db'}")
        store.load_model(_model(points))
        ledger = Ledger(load_or_create_key(key_dir(directory / "var")))
        ingestor = Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
        # 2026-03-01T00:00+08:00: well inside the year in the site's zone
        t0_us = int(dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC).timestamp()) * US
        rng = np.random.default_rng(1)
        n_batches = args.days * 144
        start = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("ingest / 写入", total=n_batches)
            for b in range(n_batches):
                ts = np.repeat(t0_us + (b * 10 + np.arange(10)) * 60 * US, len(points))
                values = np.round(rng.uniform(0, 500, size=ts.size), 3)
                result = ingestor.ingest_columns("site-1", points * 10, ts, values)
                assert result.accepted == ts.size, result.errors[:3]
                bar.advance(task)
        ingest_s = time.perf_counter() - start
        ledger.issue_sth_now(store.engine)
        out = directory / "pack.zip"
        with progress() as bar:
            task = bar.add_task("pack / 打包", total=None)
            start = time.perf_counter()
            manifest = write_pack(
                store.engine,
                ledger,
                site="site-1",
                year=2026,
                out=out,
                now=dt.datetime(2027, 1, 5, tzinfo=dt.UTC),
                progress=lambda n: bar.advance(task, n),
                total=lambda n: bar.update(task, total=n),
            )
            pack_s = time.perf_counter() - start
        readings = int(manifest["counts"]["readings"])
        with zipfile.ZipFile(out) as archive:
            members = [(i, archive.read(i.filename)) for i in archive.infolist()]
        bare = directory / "bare.zip"
        start = time.perf_counter()
        with zipfile.ZipFile(bare, "w", allowZip64=True) as archive:
            for info, data in members:
                archive.writestr(info.filename, data, compress_type=info.compress_type)
        bare_zip_s = time.perf_counter() - start
        start = time.perf_counter()
        for _, data in members:
            hashlib.sha256(data).digest()
        bare_sha256_s = time.perf_counter() - start
        start = time.perf_counter()
        report = check_pack(str(out))
        check_s = time.perf_counter() - start
        assert report.ok, report.problems[:3]
        store.close()
        scale = YEAR_READINGS / readings
        figures = {
            "bench": "pack",
            "points": args.points,
            "days": args.days,
            "readings": readings,
            "batches": int(manifest["counts"]["ingest_batch"]),
            "pack_bytes": out.stat().st_size,
            "pack_s": round(pack_s, 3),
            "pack_readings_per_s": round(readings / pack_s),
            "year_pack_s_extrapolated": round(pack_s * scale, 1),
            "bare_zip_s": round(bare_zip_s, 3),
            "bare_sha256_s": round(bare_sha256_s, 3),
            "year_bare_s_extrapolated": round((bare_zip_s + bare_sha256_s) * scale, 1),
            "check_s": round(check_s, 3),
            "year_check_s_extrapolated": round(check_s * scale, 1),
            "ingest_s": round(ingest_s, 3),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
