"""The response schemas in /docs describe what the routes really return: the analytics
answers (rendered by orjson, so FastAPI does not check them) validate against the models
the routes declare, and every JSON route of the API declares one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tansuan.settings import Settings
from tansuan.web import schemas
from tansuan.web.app import create_app
from tests.web import insights_data as planted
from tests.web.conftest import Deployment

#: Routes whose answer is not a JSON document of the API (files, streams, metrics).
NOT_JSON = {"/api/v1/reports/{kind}", "/api/v1/manual-data/templates/{kind}",
            "/api/v1/sites/{site}/devices/{device}/stream", "/metrics",
            "/api/v1/sites/{site}/evidence/{evidence_id}"}  # fmt: skip
#: A file attached to a verifier's request (its bytes).
NOT_JSON = NOT_JSON | {"/api/v1/workbench/requests/{request_id}/evidence/{evidence_id}"}


def _check(model: type[BaseModel], response: Any) -> None:
    assert response.status_code in (200, 201), response.text
    body = response.json()
    parsed = model.model_validate(body)
    assert parsed.model_dump(by_alias=True).keys() >= body.keys()


def test_analytics_answers_match_their_schemas(deployment: Deployment) -> None:
    planted.plant_all(deployment.store, deployment.built["ingestor"])
    alice = deployment.client("alice")
    site = {"site": "demo-site"}
    _check(schemas.FindingsOut, alice.get("/api/v1/findings", params=site | {
        "from": "2025-03-03", "to": "2025-03-17", "tariff": 0.8, "factor": 0.5}))  # fmt: skip
    _check(schemas.SavingsOut, alice.get("/api/v1/savings", params=site | {
        "node": "fan-001", "intervention": "2025-07-01", "factor": 0.5}))  # fmt: skip
    _check(schemas.ForecastOut, alice.get("/api/v1/forecast", params=site | {"year": 2024}))
    _check(schemas.PositionOut, alice.get("/api/v1/position", params=site | {"year": 2024}))
    _check(schemas.AlertsOut, alice.get("/api/v1/alerts", params=site | {"year": 2024}))
    _check(schemas.AccountOut, alice.get("/api/v1/allowance", params=site | {"year": 2024}))
    local = deployment.now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    _check(schemas.EnpiOut, alice.get("/api/v1/enpi", params=site | {
        "to": str(local + dt.timedelta(days=1))}))  # fmt: skip


def test_every_json_route_declares_a_schema(tmp_path: Path) -> None:
    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    missing = []
    for path, operations in spec["paths"].items():
        if path in NOT_JSON or not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" not in schema:
                missing.append(f"{method.upper()} {path}")
    assert missing == []
