"""Shared fixtures. PostgreSQL tests run when TANSUAN_TEST_PG_URL is set (.ci/run sets it)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


#: The instant every test's calendar is frozen at (``TANSUAN_NOW``): "this year", "the last
#: complete month" and "today" never depend on the day the suite runs. Mid-month and
#: mid-morning in Shanghai, in the past of the real clock (live readings stay later than
#: the frozen data); "the same month last year" falls in 2025, the shipped grid factors'
#: last year, and after the planted 2021-01 … 2024-06 emissions of the insights tests.
FROZEN_NOW = dt.datetime(2026, 11, 18, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    """Freeze the platform's calendar clock (tansuan.clock) at :data:`FROZEN_NOW` for every
    test, and for the processes it starts; a test marked ``real_clock`` runs on the real
    clock (live protocols and time synchronisation, where the real time is under test)."""
    if request.node.get_closest_marker("real_clock"):
        monkeypatch.delenv("TANSUAN_NOW", raising=False)
        return None
    monkeypatch.setenv("TANSUAN_NOW", FROZEN_NOW.isoformat())
    return FROZEN_NOW


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def pg_url() -> str | None:
    """The test PostgreSQL URL, or None when no server is configured."""
    return os.environ.get("TANSUAN_TEST_PG_URL")


def require_pg_url() -> str:
    """The test PostgreSQL URL; skipped locally without one, a failure in CI."""
    url = pg_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: TANSUAN_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL configured: set TANSUAN_TEST_PG_URL (.ci/run does)")
    return url


# --- store fixtures: every store test runs on SQLite and on PostgreSQL -----------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """A fresh, empty database: a SQLite file, or a new schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = pg_url()
    if not base:
        pytest.skip("PostgreSQL not configured: set TANSUAN_TEST_PG_URL (.ci/run does)")
    import uuid

    from sqlalchemy import create_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def site_document(points: list[dict[str, object]], *, timezone: str = "Asia/Shanghai") -> dict:
    """A one-site model document: area 'shop' > line 'line-1' > device 'dev-1' with points,
    plus device 'dev-2' (directly in 'shop') holding points whose id starts with 'b.'."""
    line_points = [p for p in points if not str(p["id"]).startswith("b.")]
    other_points = [p for p in points if str(p["id"]).startswith("b.")]
    return {
        "version": 1,
        "organisation": {
            "id": "org",
            "companies": [
                {
                    "id": "co",
                    "sites": [
                        {
                            "id": "site",
                            "timezone": timezone,
                            "areas": [
                                {
                                    "id": "shop",
                                    "areas": [
                                        {
                                            "id": "line-1",
                                            "kind": "line",
                                            "devices": [
                                                {
                                                    "id": "dev-1",
                                                    "class": "meter",
                                                    "points": line_points,
                                                }
                                            ],
                                        }
                                    ],
                                    "devices": [
                                        {"id": "dev-2", "class": "fan", "points": other_points}
                                    ],
                                }
                            ],
                            "series": [
                                {"id": "coal", "kind": "fuel_consumption", "unit": "t"},
                                {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                                {"id": "output", "kind": "production", "unit": "t"},
                                {"id": "stock", "kind": "stock_change", "unit": "t"},
                            ],
                        }
                    ],
                }
            ],
        },
    }


#: Points used by most store/ingest tests.
DEFAULT_POINTS: list[dict[str, object]] = [
    {"id": "power", "quantity": "power", "unit": "kW", "valid_range": [0, 1000]},
    {"id": "energy", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "rollover": 1000},
    {"id": "fuel", "quantity": "fuel", "unit": "t", "kind": "total"},
    {"id": "b.energy", "quantity": "energy", "unit": "kWh", "kind": "total_increasing"},
]  # fmt: skip


@pytest.fixture
def site_model() -> object:
    from tansuan.site.model import SiteModel

    return SiteModel.model_validate(site_document(DEFAULT_POINTS))


@pytest.fixture
def store(db_url: str, site_model: object) -> object:
    """An open store with the default test site loaded."""
    from tansuan.store import Store

    opened = Store(db_url)
    opened.load_model(site_model, source="test")  # type: ignore[arg-type]
    yield opened
    opened.close()


# --- in CI nothing may be skipped --------------------------------------------------------
# Locally a test that needs PostgreSQL, Mosquitto or Chromium is skipped with the reason
# (how to get the service); .ci/run provides them all, so there a skip is a failure.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") and _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"CI: {len(_skipped)} test(s) skipped, e.g. {_skipped[0]}")
