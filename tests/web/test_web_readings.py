"""HTTP batch ingest and manual-data upload: a real uvicorn server on localhost, a real
HTTP client, a real store."""

from __future__ import annotations

import io
import socket
import threading
import time

import httpx
import orjson
import pytest
import uvicorn

from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.web.app import create_app


@pytest.fixture
def client(store: Store):
    settings = Settings(database_url=store.url, ingest_token="s3cret")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store=store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": "Bearer s3cret"},
        timeout=30,
    ) as http:
        yield http
    server.should_exit = True
    thread.join(timeout=20)


def test_columnar_json_with_per_row_errors(client: httpx.Client) -> None:
    body = {
        "site": "site",
        "point": ["power", "power", "nope", "power"],
        "ts": [1793491200, "2026-11-01T08:01:00+08:00", 1793491200, "2026-11-01T00:02:00"],
        "value": [1.5, 2500, 3, 4],
        "unit": "W",
    }
    answer = client.post("/api/v1/readings", content=orjson.dumps(body))
    assert answer.status_code == 200
    got = answer.json()
    assert (got["received"], got["new"], got["rejected"]) == (4, 2, 2)
    assert [(e["index"], e["code"]) for e in got["errors"]] == [
        (2, "unknown_point"),
        (3, "bad_timestamp"),  # no offset
    ]
    again = client.post("/api/v1/readings", content=orjson.dumps(body)).json()
    assert (again["new"], again["duplicates"]) == (0, 2)


def test_rows_json_and_csv(client: httpx.Client) -> None:
    rows = {"readings": [{"site": "site", "point": "fuel", "ts": 1793491200, "value": 2}]}
    assert client.post("/api/v1/readings", json=rows).json()["new"] == 1
    csv_body = (
        "site,point,ts,value,unit,quality\n"
        "site,fuel,2026-11-01T00:01:00Z,1500,kg,N\n"
        "site,fuel,2026-11-01T00:02:00Z,abc,,N\n"
        "site,fuel,2026-11-01T00:03:00Z,1,,Q\n"
    )
    got = client.post(
        "/api/v1/readings", content=csv_body, headers={"Content-Type": "text/csv"}
    ).json()
    assert got["new"] == 1
    assert [(e["index"], e["code"]) for e in got["errors"]] == [
        (1, "bad_value"),
        (2, "bad_quality"),
    ]


def test_unreadable_body_is_a_problem_document_and_stores_nothing(client: httpx.Client) -> None:
    answer = client.post("/api/v1/readings", content=b"{not json")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/bad-input") and problem["status"] == 400
    missing = client.post(
        "/api/v1/readings",
        content=b"site,point\nsite,power\n",
        headers={"Content-Type": "text/csv"},
    )
    assert missing.status_code == 400 and missing.json()["field"] == "header"


def test_bearer_token_is_required_when_configured(client: httpx.Client) -> None:
    answer = client.post(
        "/api/v1/readings", json={"readings": []}, headers={"Authorization": "Bearer wrong"}
    )
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/permission-denied")


def test_manual_upload_csv_and_xlsx(client: httpx.Client) -> None:
    from openpyxl import Workbook

    csv_body = (
        "site,series,period_start,period_end,value,unit,document_ref,supplier,note\n"
        "site,coal,2026-10-01,2026-10-31,1200,t,INV-1,Coal Co,\n"
        "site,coal,2026-10,,1500000,kg,INV-2,Coal Co,\n"
        "site,coal,2026-10-01,2026-10-31,-5,t,INV-3,,\n"
        "site,coal-ncv,2026-10-01,2026-10-31,20,GJ/t,LAB-1,,\n"
    )
    got = client.post(
        "/api/v1/manual-data", files={"file": ("coal.csv", csv_body.encode(), "text/csv")}
    ).json()
    assert (got["kind"], got["new"]) == ("fuel", 2)
    assert [(e["index"], e["code"]) for e in got["errors"]] == [(4, "bad_value"), (5, "wrong_kind")]
    book = Workbook()
    sheet = book.active
    sheet.append(["site", "series", "period_start", "period_end", "value", "unit", "document_ref",
                  "sample_id", "laboratory", "standard", "note"])  # fmt: skip
    sheet.append(["site", "coal-ncv", "2026-10-01", "2026-10-31", 20.9, "GJ/t", "LAB-1", "S1",
                  "CMA", "GB/T 213", ""])  # fmt: skip
    data = io.BytesIO()
    book.save(data)
    got = client.post(
        "/api/v1/manual-data",
        files={"file": ("lab.xlsx", data.getvalue(), "application/octet-stream")},
    ).json()
    assert (got["kind"], got["new"], got["rejected"]) == ("lab", 1, 0)


def test_openapi_documents_the_routes(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/readings" in spec["paths"]
    assert "text/csv" in spec["paths"]["/api/v1/readings"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200
    template = client.get("/api/v1/manual-data/templates/lab")
    assert template.text.startswith("site,series,period_start")
