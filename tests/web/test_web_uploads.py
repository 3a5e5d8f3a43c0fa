"""Uploads that cannot take the server down (issue 17): size limits enforced while the
body streams in, XLSX inflate/row limits, parsing off the event loop, large imports as
background jobs in batches, CSV edge cases as 400s naming the row.

A real uvicorn server on a loopback port, a real HTTP client, a real store (SQLite, and
PostgreSQL when TANSUAN_TEST_PG_URL is set), the two-tenant demo deployment.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import socket
import statistics
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from tansuan.ledger import Ledger
from tansuan.settings import Settings
from tansuan.store import Store, schema, users
from tansuan.web.app import create_app
from tests.conftest import FROZEN_NOW
from tests.web.demo import build

FUEL_HEADER = "site,series,period_start,period_end,value,unit,document_ref,supplier,note\n"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Site:
    """The served deployment: alice (demo-group) and bob (other-group) clients by token."""

    def __init__(self, store: Store, app: Any, base: str, tokens: dict[str, str]) -> None:
        self.store, self.app, self.base = store, app, base
        self.clients = {
            name: httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
            )
            for name, token in tokens.items()
        }

    def count(self, table: Any) -> int:
        with self.store.read() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def deployment(db_url: str, tmp_path: Path) -> Iterator[Any]:
    """A factory: ``deployment(**settings)`` serves the demo deployment with a ledger."""
    opened: list[Any] = []

    @contextmanager
    def make(**overrides: Any) -> Iterator[Site]:
        settings = Settings(data_dir=tmp_path / "data", database_url=db_url, **overrides)
        store = Store(db_url, settings=settings)
        build(store, FROZEN_NOW.astimezone(dt.UTC))
        tokens = {}
        with store.write() as connection:
            for name in ("alice", "bob"):
                user_id = users.user_id_by_name(connection, name)
                tokens[name] = users.create_token(connection, user_id, name, ["ingest", "read"])[1]
        ledger = Ledger.from_data_dir(tmp_path / "data")
        app = create_app(settings, store=store, ledger=ledger)
        with serve(app) as base:
            site = Site(store, app, base, tokens)
            opened.append(site)
            try:
                yield site
            finally:
                for client in site.clients.values():
                    client.close()
        store.close()

    yield make


def fuel_csv(rows: int, *, start: int = 0) -> bytes:
    """A manual-data CSV of ``rows`` distinct fuel invoices of demo-site."""
    lines = [FUEL_HEADER]
    lines += [
        f"demo-site,oil-invoices,2026-01-01,2026-01-31,1.5,t,INV-{i},Sinopec,\n"
        for i in range(start, start + rows)
    ]
    return "".join(lines).encode()


def upload(client: httpx.Client, name: str, data: bytes, **form: str) -> httpx.Response:
    return client.post(
        "/api/v1/manual-data", files={"file": (name, data, "text/csv")}, data=form or None
    )


# --- 1. size limits, enforced while streaming --------------------------------------------


def test_readings_body_over_its_limit_is_413_naming_the_limit(deployment: Any) -> None:
    with deployment(upload_max_bytes_readings=4096) as site:
        alice = site.clients["alice"]
        before = site.count(schema.ingest_batch)
        body = b'{"readings": [' + b" " * 8000 + b"]}"
        answer = alice.post(
            "/api/v1/readings", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "4096" in answer.json()["detail"]
        assert "TANSUAN_UPLOAD_MAX_BYTES_READINGS" in answer.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
            yield b'{"readings": ['
            for _ in range(100):
                yield b" " * 1000
            yield b"]}"

        streamed = alice.post(
            "/api/v1/readings", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413, streamed.text
        assert site.count(schema.ingest_batch) == before  # nothing stored
        # Under the limit the route works as before.
        small = alice.post(
            "/api/v1/readings",
            json={"site": "demo-site", "point": ["fan-001.power"],
                  "ts": ["2026-11-18T02:00:00Z"], "value": [41.0]},
        )  # fmt: skip
        assert small.status_code == 200, small.text


def test_manual_data_over_its_limit_is_413_and_stores_nothing(deployment: Any) -> None:
    with deployment(upload_max_bytes_manual_data=10_000) as site:
        alice = site.clients["alice"]
        before = site.count(schema.series_entry)
        answer = upload(alice, "big.csv", fuel_csv(400))  # ~25 kB
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_UPLOAD_MAX_BYTES_MANUAL_DATA" in answer.json()["detail"]
        assert site.count(schema.series_entry) == before
        assert upload(alice, "small.csv", fuel_csv(3)).json()["new"] == 3


# --- 2. XLSX bombs --------------------------------------------------------------------------


def bomb_xlsx(rows: int) -> bytes:
    """A real workbook whose sheet is the header and ``rows`` identical data rows, written
    as raw sheet XML (it compresses ~1000:1)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["x"])  # type: ignore[union-attr]
    plain = io.BytesIO()
    book.save(plain)
    cells = "".join(
        f'<c t="inlineStr"><is><t>{v}</t></is></c>'
        for v in ("demo-site", "oil-invoices", "2026-01-01", "2026-01-31", "1", "t", "INV",
                  "S", "")
    )  # fmt: skip
    header = "".join(
        f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in FUEL_HEADER.strip().split(",")
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData><row>{header}</row>"
        + f"<row>{cells}</row>" * rows
        + "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            target.writestr(item.filename, data)
    return out.getvalue()


def test_xlsx_bomb_is_refused_before_parsing(deployment: Any) -> None:
    bomb = bomb_xlsx(40_000)  # ~11 MB of sheet XML
    assert len(bomb) < 100_000
    with deployment(upload_max_inflated_bytes=2_000_000) as site:
        alice = site.clients["alice"]
        before = site.count(schema.series_entry)
        started = time.monotonic()
        answer = alice.post("/api/v1/manual-data", files={"file": ("bomb.xlsx", bomb)})
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_UPLOAD_MAX_INFLATED_BYTES" in answer.json()["detail"]
        assert "2000000" in answer.json()["detail"]
        assert time.monotonic() - started < 5
        assert site.count(schema.series_entry) == before


def test_xlsx_and_csv_beyond_the_row_limit_are_refused(deployment: Any) -> None:
    with deployment(upload_max_rows=100) as site:
        alice = site.clients["alice"]
        before = site.count(schema.series_entry)
        answer = alice.post("/api/v1/manual-data", files={"file": ("many.xlsx", bomb_xlsx(500))})
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_UPLOAD_MAX_ROWS" in answer.json()["detail"]
        answer = upload(alice, "many.csv", fuel_csv(500))
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_UPLOAD_MAX_ROWS" in answer.json()["detail"]
        assert site.count(schema.series_entry) == before


# --- 3. parsing off the event loop ------------------------------------------------------------


def test_the_server_answers_while_a_large_workbook_is_parsed(deployment: Any) -> None:
    """No probe of the server waits a second while a 25,000-row workbook is parsed.

    Parsed in a worker thread instead of a process, the probes here wait ~0.06 s each and one
    of them 2.2 s (measured). The server runs inside the pytest process, whose heap holds
    what 1,600 earlier tests left behind; a full garbage collection of that heap stalls every
    thread for seconds (it failed CI once with one 2.56 s probe and all others ~3 ms) and is
    not the server's doing, so the harness's objects are frozen out of collection meanwhile
    and the collector's own pauses are reported with a failure.
    """
    workbook = bomb_xlsx(25_000)  # an allowed, slow-to-parse workbook
    pauses: list[float] = []
    started_gc: list[float] = []

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started_gc[:] = [time.monotonic()]
        elif started_gc and info["generation"] == 2:
            pauses.append(time.monotonic() - started_gc[0])

    gc.collect()
    gc.freeze()
    gc.callbacks.append(timing)
    try:
        _probe_while_parsing(deployment, workbook, pauses)
    finally:
        gc.callbacks.remove(timing)
        gc.unfreeze()


def _probe_while_parsing(deployment: Any, workbook: bytes, pauses: list[float]) -> None:
    with deployment(upload_job_threshold_rows=10**6) as site:
        alice = site.clients["alice"]
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def send() -> None:
            outcome["answer"] = alice.post(
                "/api/v1/manual-data", files={"file": ("big.xlsx", workbook)}
            )
            done.set()

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(0.3)  # the upload is in and being parsed
        waits = []
        with httpx.Client(base_url=site.base, timeout=30) as probe:
            while not done.is_set() and len(waits) < 50:
                started = time.monotonic()
                assert probe.get("/login").status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.05)
        sender.join(timeout=300)
        assert len(waits) >= 5, "the upload finished too soon to probe the server meanwhile"
        assert max(waits) < 1.0, (waits, "full collections (s):", pauses)
        assert outcome["answer"].status_code == 200, outcome["answer"].text


# --- 4. large imports: a background job in batches ----------------------------------------


def test_large_import_is_a_background_job_owned_by_its_organisation(deployment: Any) -> None:
    with deployment(upload_job_threshold_rows=50, upload_job_batch_rows=40) as site:
        alice, bob = site.clients["alice"], site.clients["bob"]
        leaves_before = site.count(schema.ledger_leaves)
        batches_before = site.count(schema.ingest_batch)
        answer = upload(alice, "big.csv", fuel_csv(200) + b"demo-site,oil-invoices,x,,1,t,,,\n")
        assert answer.status_code == 202, answer.text
        location = answer.headers["location"]
        assert location == f"/api/v1/jobs/{answer.json()['id']}"
        assert bob.get(location).status_code == 404  # another organisation's job
        job = poll(alice, location)
        assert job["status"] == "done", job
        assert (job["rows_total"], job["rows_done"]) == (201, 201)
        assert (job["result"]["new"], job["result"]["rejected"]) == (200, 1)
        assert job["result"]["errors"][0]["index"] == 202  # the file's row number
        # Five transactions of at most 40 entries, each with its own ledger leaves.
        assert site.count(schema.ingest_batch) - batches_before == 5
        assert site.count(schema.ledger_leaves) - leaves_before == 200
        with site.store.read() as connection:
            b, e = schema.ingest_batch, schema.series_entry
            per_batch = (
                connection.execute(select(func.count()).select_from(e).group_by(e.c.batch_id))
                .scalars()
                .all()
            )
            rejected = connection.execute(select(func.sum(b.c.n_rejected))).scalar_one()
        assert sorted(per_batch)[-1] <= 40 and rejected == 1
        assert alice.get("/api/v1/jobs/nope").status_code == 404


def poll(client: httpx.Client, location: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(location).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


#: Rows of the import in the p99 test: the largest that keeps the test well under 60 s on
#: the CI machine (the 100 MB run is bench/uploads.py).
LARGE_ROWS = 20_000


def test_other_tenants_ingest_stays_fast_while_a_large_import_runs(deployment: Any) -> None:
    with deployment(upload_job_threshold_rows=1000, upload_max_bytes_manual_data=2**30) as site:
        alice, bob = site.clients["alice"], site.clients["bob"]
        answer = upload(alice, "large.csv", fuel_csv(LARGE_ROWS))
        assert answer.status_code == 202, answer.text
        location = answer.headers["location"]
        waits: list[float] = []
        running_during = 0
        base_ts = int(FROZEN_NOW.timestamp()) - 3 * 86_400  # before the demo readings
        for i in range(20):
            started = time.monotonic()
            got = bob.post(
                "/api/v1/readings",
                json={"site": "other-site", "point": ["other.energy"],
                      "ts": [base_ts + 60 * i], "value": [10_000.0 + i]},
            )  # fmt: skip
            waits.append(time.monotonic() - started)
            assert got.status_code == 200 and got.json()["new"] == 1, got.text
            running_during += alice.get(location).json()["status"] in ("queued", "running")
            time.sleep(0.05)
        assert running_during >= 15, ("the import ended before the readings were measured", waits)
        p99 = statistics.quantiles(waits, n=100, method="inclusive")[98]
        assert p99 < 1.0, waits
        job = poll(alice, location, timeout=600)
        assert job["status"] == "done" and job["result"]["new"] == LARGE_ROWS, job


# --- 5. CSV edge cases: 400 naming the row, never 500 ------------------------------------------


def test_header_only_and_stray_carriage_return_are_400_naming_the_row(deployment: Any) -> None:
    with deployment() as site:
        alice = site.clients["alice"]
        csv_type = {"Content-Type": "text/csv"}
        only_header = alice.post(
            "/api/v1/readings", content=b"site,point,ts,value\n", headers=csv_type
        )
        assert only_header.status_code == 400, only_header.text
        assert only_header.json()["field"] == "row 2"
        stray = alice.post(
            "/api/v1/readings",
            content=b"site,point,ts,value\ndemo-site,fan-001.power,2026-11-18T02:00:00Z,4\r1\n",
            headers=csv_type,
        )
        assert stray.status_code == 400, stray.text
        assert stray.json()["field"] == "row 2"
        assert "row 2" in stray.json()["detail"]
        empty_json = alice.post("/api/v1/readings", json={"readings": []})
        assert empty_json.status_code == 200 and empty_json.json()["received"] == 0

        before = site.count(schema.series_entry)
        header_only = upload(alice, "h.csv", FUEL_HEADER.encode())
        assert header_only.status_code == 400, header_only.text
        assert header_only.json()["field"] == "row 2"
        manual_stray = upload(
            alice,
            "s.csv",
            fuel_csv(2) + b"demo-site,oil-invoices,2026-02-01,2026-02-28,1\r5,t,INV-x,,\n",
        )
        assert manual_stray.status_code == 400, manual_stray.text
        assert manual_stray.json()["field"] == "row 4"
        assert site.count(schema.series_entry) == before


def test_evidence_over_its_limit_is_refused_while_streaming(deployment: Any) -> None:
    with deployment(evidence_max_bytes=1000) as site:
        alice = site.clients["alice"]
        before = site.count(schema.evidence)

        def chunks() -> Iterator[bytes]:  # a multipart body without Content-Length
            yield b"--b\r\nContent-Disposition: form-data; name=file; filename=a.pdf\r\n\r\n"
            for _ in range(200):
                yield b"%" * 1000
            yield b"\r\n--b--\r\n"

        answer = alice.post(
            "/api/v1/sites/demo-site/evidence",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_EVIDENCE_MAX_BYTES" in answer.json()["detail"]
        assert site.count(schema.evidence) == before


def test_every_other_body_is_bounded_by_the_default_limit(deployment: Any) -> None:
    with deployment(upload_max_bytes_default=2048) as site:
        alice = site.clients["alice"]
        before = site.count(schema.share_grant)
        answer = alice.post(
            "/api/v1/grants",
            json={"site": "demo-site", "classes": ["raw"], "grantee_org": "x" * 5000},
        )
        assert answer.status_code == 413, answer.text
        assert "TANSUAN_UPLOAD_MAX_BYTES_DEFAULT" in answer.json()["detail"]
        assert site.count(schema.share_grant) == before
        assert alice.get("/api/v1/me").status_code == 200  # reads are not bounded
