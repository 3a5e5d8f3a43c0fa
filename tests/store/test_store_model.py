"""Loading a site model applies the difference and keeps the history."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from tansuan.errors import InputError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.conftest import DEFAULT_POINTS, site_document

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_first_load_counts_every_entity(db_url: str) -> None:
    store = Store(db_url)
    summary = store.load_model(SiteModel.model_validate(site_document(DEFAULT_POINTS)))
    # organisation, company, site, 2 areas, 2 devices, 4 points, 4 series = 15
    assert (summary.new, summary.changed, summary.retired) == (15, 0, 0)
    again = store.load_model(SiteModel.model_validate(site_document(DEFAULT_POINTS)))
    assert (again.new, again.changed, again.retired, again.unchanged) == (0, 0, 0, 15)
    store.close()


@pytest.mark.real_clock("a point is retired at the real time its model is loaded")
def test_edited_model_applies_new_changed_retired_and_keeps_data(store: Store) -> None:
    Ingestor(store).ingest([Reading("site", "fuel", T0, 2.0)])
    points = copy.deepcopy(DEFAULT_POINTS)
    points[0]["valid_range"] = [0, 2000]  # power: changed
    points = [p for p in points if p["id"] != "fuel"]  # fuel: retired
    points.append({"id": "flow", "quantity": "flow", "unit": "m3/h"})  # new
    summary = store.load_model(SiteModel.model_validate(site_document(points)), source="v2")
    assert (summary.new, summary.changed, summary.retired) == (1, 1, 1)
    assert summary.by_kind["point"] == {"new": 1, "changed": 1, "retired": 1, "unchanged": 2}
    with store.read() as connection:
        history = connection.exec_driver_sql(
            "SELECT h.version_from, h.version_to, h.change FROM entity_history h "
            "JOIN entity e ON e.id = h.entity_id WHERE e.key = 'power' ORDER BY h.version_from"
        ).all()
        fuel = connection.exec_driver_sql(
            "SELECT retired_at_us IS NOT NULL FROM point WHERE key = 'fuel'"
        ).scalar_one()
        kept = connection.exec_driver_sql("SELECT count(*) FROM reading_staging").scalar_one()
        kept += connection.exec_driver_sql("SELECT count(*) FROM reading").scalar_one()
    assert [tuple(h) for h in history] == [(1, 2, "new"), (2, None, "changed")]
    assert fuel and kept == 1
    # A retired point takes no readings timed after its retirement (late data from
    # before it still counts); the changed range applies at once.
    now = dt.datetime.now(dt.UTC)
    result = Ingestor(store).ingest(
        [Reading("site", "fuel", now, 1.0), Reading("site", "power", T0, 1500.0)]
    )
    assert [e.code for e in result.errors] == ["retired_point"]
    assert result.new == 1
    # Bringing the point back revives it under its old id.
    revived = store.load_model(SiteModel.model_validate(site_document(DEFAULT_POINTS)))
    assert revived.by_kind["point"]["new"] == 1
    with store.read() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM point").scalar_one() == 5


def test_unit_change_of_a_point_with_data_is_refused(store: Store) -> None:
    Ingestor(store).ingest([Reading("site", "power", T0, 1.0)])
    points = copy.deepcopy(DEFAULT_POINTS)
    points[0]["unit"] = "MW"
    with pytest.raises(InputError, match="unit kW -> MW"):
        store.load_model(SiteModel.model_validate(site_document(points)))
    with store.read() as connection:
        assert connection.exec_driver_sql("SELECT max(id) FROM model_version").scalar_one() == 1


def test_cli_db_upgrade_and_site_load(tmp_path, monkeypatch, examples) -> None:
    from typer.testing import CliRunner

    from tansuan.cli import app
    from tansuan.settings import get_settings

    monkeypatch.setenv("TANSUAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        up = runner.invoke(app, ["db", "upgrade"])
        from tansuan.store.engine import head_revision

        assert up.exit_code == 0 and head_revision() in up.output
        loaded = runner.invoke(app, ["site", "load", str(examples / "site.yaml")])
        assert loaded.exit_code == 0, loaded.output
        assert "23" in loaded.output  # entities of examples/site.yaml
        history = runner.invoke(app, ["site", "history"])
        assert history.exit_code == 0 and "23" in history.output  # one version, 23 new
    finally:
        get_settings.cache_clear()
