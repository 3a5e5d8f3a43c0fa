"""The platform wiring: a gateway's sink stores readings, logs them, and marks results stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from tansuan.accounting import results
from tansuan.accounting.periods import parse_period
from tansuan.gateways.runtime import make_sink
from tansuan.ingest.reading import Reading
from tansuan.ledger import schema as ledger_schema
from tansuan.platform import open_gateway_sink, open_platform
from tansuan.settings import Settings
from tansuan.site.validate import load
from tansuan.store import Store
from tansuan.store import schema as store_schema


def test_gateway_sink_goes_through_ledger_and_accounting(
    db_url: str, tmp_path: Path, examples: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url)
    store = Store(db_url)
    store.load_model(load(examples / "site.yaml"))
    store.close()

    platform = open_platform(settings)
    try:
        assert platform.accountant is not None  # the stored model was found
        t0 = dt.datetime(2024, 3, 1, 0, tzinfo=dt.UTC)
        platform.sink(
            [
                Reading("demo-site", "grid.energy", t0 + dt.timedelta(hours=h), 1000.0 + 100 * h)
                for h in range(3)
            ]
        )
        report = platform.accountant.run(
            "demo-site", parse_period("2024-03"), sources=["grid-power"]
        )
        assert report.outcomes() == {"created": 1}

        # what `tansuan gateway mqtt` uses
        sink = make_sink(settings, source="mqtt", open_sink=open_gateway_sink)
        sink([Reading("demo-site", "grid.energy", t0 + dt.timedelta(hours=3), 1400.0)])
        sink.__self__.close()  # type: ignore[attr-defined]  # the gateway's own platform
        with platform.store.read() as conn:
            sources = [r[0] for r in conn.execute(sa.select(store_schema.ingest_batch.c.source))]
            kinds = [
                r[0]
                for r in conn.execute(
                    sa.select(ledger_schema.leaves.c.kind).order_by(
                        ledger_schema.leaves.c.leaf_index
                    )
                )
            ]
            stale = results.stale(conn, "demo-site")
        assert sources == ["api", "mqtt"]
        # batch 1, the result version (after the releases of the 11 reference tables it
        # binds, logged with it), batch 2: every one of them in the log, in order
        assert kinds == ["ingest_batch", *["factor_table"] * 11, "emission_result", "ingest_batch"]
        # the reading after the computed month's result marks that month stale
        assert [(s, p) for s, p, _ in stale] == [("grid-power", "2024-03")]
    finally:
        platform.close()


def test_without_a_loaded_model_there_is_no_accountant(db_url: str, tmp_path: Path) -> None:
    platform = open_platform(Settings(data_dir=tmp_path / "var", database_url=db_url))
    try:
        assert platform.accountant is None and platform.model is None
    finally:
        platform.close()


@pytest.fixture(autouse=True)
def _no_sink_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANSUAN_GATEWAY_SINK", raising=False)


def test_verify_names_a_batch_written_around_the_ledger(
    db_url: str, tmp_path: Path, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch stored by an ingestor without the ledger hook is named by `tansuan verify`."""
    from typer.testing import CliRunner

    from tansuan.cli import app
    from tansuan.ingest.ingestor import Ingestor
    from tansuan.settings import get_settings

    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    platform = open_platform()
    try:
        platform.store.load_model(load(examples / "site.yaml"))
        t0 = dt.datetime(2024, 3, 1, 0, tzinfo=dt.UTC)
        platform.sink([Reading("demo-site", "grid.energy", t0, 1000.0)])
        # leaves without any tree head fail verify (sth_none): sign, as serve's schedule does
        platform.ledger.issue_sth_now(platform.store.engine)
        assert CliRunner().invoke(app, ["verify"]).exit_code == 0
        rogue = Ingestor(platform.store).ingest(
            [Reading("demo-site", "grid.energy", t0 + dt.timedelta(hours=1), 1100.0)]
        )
        result = CliRunner().invoke(app, ["verify"])
        assert result.exit_code == 1
        assert f"batch {rogue.batch_id}" in result.output
    finally:
        platform.close()
        get_settings.cache_clear()
