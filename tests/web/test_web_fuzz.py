"""The API fuzz gate: every operation of the OpenAPI schema, schema-driven cases (valid and
invalid, schemathesis + Hypothesis, a fixed seed) and hand-made hostile ones (ids beyond 64
bits, negative, empty, unicode, wrong types; CSV bodies with only the header row and with a
stray ``\\r``), sent to the real app as an organisation's administrator (a bearer token),
so the handlers are reached. Any 5xx or exception fails the run, with every failing
request listed. Bounded: :data:`EXAMPLES` cases per operation and mode (about a minute on
SQLite on a loaded two-core machine).
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode

from tansuan.store import users
from tests.web.conftest import Deployment

#: Schema-driven cases per operation and generation mode (valid / invalid).
EXAMPLES = 25
#: The seed of every Hypothesis run: the same cases each time.
SEED = 17
#: The whole gate's time budget [s]; a slower run fails, so that the gate stays cheap.
BUDGET_S = 240.0

HOSTILE_IDS = (str(2**64 + 5), str(2**63), "-1", "0", "", "１２", "1e3", "١٢", "%00", "🙂")
CSV_BODIES = (
    b"site,point,ts,value\n",
    b"site,point,ts,value,unit\r\n",
    b"site,point,ts,value\ndemo-site,fan-001.power,2025-01-01T00:00:00+08:00,1\r2\n",
    b'site,point,ts,value\n"demo-\rsite",fan-001.power,2025-01-01T00:00:00+08:00,1\n',
    b"\xef\xbb\xbf\r\r\r",
    b"",
)


def _token(deployment: Deployment) -> str:
    with deployment.store.write() as conn:
        user_id = users.user_id_by_name(conn, "alice")
        _id, token = users.create_token(conn, user_id, "fuzz", ["read", "ingest", "admin"])
    return token


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_api_operation_answers_a_5xx(deployment: Deployment) -> None:
    started = time.monotonic()
    auth = {"Authorization": f"Bearer {_token(deployment)}"}
    failures: list[str] = []
    client = TestClient(deployment.app, raise_server_exceptions=False)
    client.__enter__()
    schema = schemathesis.openapi.from_asgi("/openapi.json", deployment.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    def check(label: str, response: Any) -> None:
        if response.status_code >= 500:
            failures.append(f"{label} -> {response.status_code} {response.text[:200]}")

    cases = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.seed(SEED)
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                label = f"{case.method} {case.formatted_path} query={case.query!r}"
                try:
                    response = case.call(headers=auth)
                except Exception as exc:  # noqa: BLE001 - any exception is a finding
                    failures.append(f"{label} raised {type(exc).__name__}: {exc}")
                    return
                check(label, response)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing invalid to send (no inputs)
        # Hand-made ids in every integer path parameter.
        for name in re.findall(r"\{(\w+)\}", operation.path):
            for value in HOSTILE_IDS:
                path = operation.path
                for other in re.findall(r"\{(\w+)\}", operation.path):
                    path = path.replace("{" + other + "}", value if other == name else "1")
                path = path.replace("{site}", "demo-site") if value == "1" else path
                cases += 1
                check(f"{operation.method.upper()} {path}",
                      client.request(operation.method.upper(), path, headers=auth))  # fmt: skip
        for param in operation.query:
            for value in HOSTILE_IDS:
                cases += 1
                check(f"{operation.method.upper()} {operation.path}?{param.name}={value}",
                      client.request(operation.method.upper(),
                                     re.sub(r"\{\w+\}", "1", operation.path),
                                     params={param.name: value}, headers=auth))  # fmt: skip
    for body in CSV_BODIES:
        cases += 2
        csv = auth | {"Content-Type": "text/csv"}
        check(f"POST /api/v1/readings csv={body!r}",
              client.post("/api/v1/readings", content=body, headers=csv))  # fmt: skip
        upload = {"file": ("fuel.csv", io.BytesIO(body), "text/csv")}
        check(f"POST /api/v1/manual-data csv={body!r}",
              client.post("/api/v1/manual-data", files=upload, headers=auth))  # fmt: skip
    elapsed = time.monotonic() - started
    assert failures == [], f"{len(failures)} of {cases} cases answered 5xx:\n" + "\n".join(
        failures[:40]
    )
    assert elapsed < BUDGET_S, f"{cases} cases took {elapsed:.0f} s"
