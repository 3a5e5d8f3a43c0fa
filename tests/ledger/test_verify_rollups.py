"""``tansuan verify`` recomputes the rollups from the stored readings (docs/ledger.md).

The site (Asia/Shanghai, UTC+8) has two points, read hourly at ``T0 + i h`` for
i = 0 … 47, T0 = 2026-01-01T00:00Z (08:00 local), ingested in two batches (i < 24, then
the rest, so the stored buckets are merged batch by batch):

* ``power`` (instantaneous, kW): ``10 + i``. The 05:00Z hour holds one reading, 15.0.
* ``energy`` (total_increasing, kWh): ``1000 + 50 i``, except a glitch at i = 30 that
  reads 0 (the next reading is back on the level: a ``counter_flag`` glitch, no
  consumption; i = 31 counts from i = 29 over two hours, 100 kWh).

Local day 2026-01-02 runs 16:00Z on the 1st to 16:00Z on the 2nd, i.e. the readings
i = 16 … 39 (n = 24, all valid) and the counter intervals ending at i = 17 … 40, which
lie wholly inside it: 24 × 50 = 1,200 kWh (the glitch moves 50 kWh from i = 30's
interval to i = 31's, inside the same day). Its sum: Σ(1000 + 50 i, i = 16 … 39) =
24,000 + 50 × 660 = 57,000, minus the glitch reading's true value never stored (2,500)
= 54,500. Local days with readings: 2026-01-01, 01-02, 01-03 (the last reading,
2026-01-02T23:00Z, is 07:00 on the 3rd): 2 points × 3 days = 6 day × point cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.ingest.ingestor import Ingestor
from tansuan.ledger.log import Ledger
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.ledger.verify_rollups import verify_rollups
from tansuan.platform import ledger_batch_hook
from tansuan.settings import get_settings
from tansuan.site.model import SiteModel
from tansuan.store import Store, batch_rows, reading_batch_ids
from tests.conftest import site_document

T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
HOUR_US = 3_600_000_000
POINTS: list[dict[str, object]] = [
    {"id": "power", "quantity": "power", "unit": "kW"},
    {"id": "energy", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600},
]  # fmt: skip
HOUR_5 = T0_US + 5 * HOUR_US  # 2026-01-01T05:00Z
POWER = "(SELECT id FROM point WHERE key = 'power')"
ENERGY = "(SELECT id FROM point WHERE key = 'energy')"
COLUMNS = "site_id, point_id, {bucket}, n, n_valid, sum, min, max, first_ts_us, first, " + (
    "last_ts_us, last, delta, resets"
)


def _energy(i: int) -> float:
    return 0.0 if i == 30 else 1000.0 + 50.0 * i


@pytest.fixture
def site(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The site above in a fresh database, logged by the data dir's ledger (also what the
    CLI reads through Settings)."""
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    ledger = Ledger.from_data_dir(tmp_path / "var")
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(site_document(POINTS)), source="test")
    ingestor = Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
    for part in (range(0, 24), range(24, 48)):
        ts = [T0_US + i * HOUR_US for i in part]
        result = ingestor.ingest_columns(
            "site",
            ["power"] * len(ts) + ["energy"] * len(ts),
            ts + ts,
            [10.0 + i for i in part] + [_energy(i) for i in part],
        )
        assert not result.errors, result.errors
    ledger.issue_sth_now(store.engine)
    yield store
    store.close()
    get_settings.cache_clear()


def _verify(store: Store, *, sample: int | None = None, seed: int | None = None) -> Outcome:
    ledger = Ledger.from_data_dir(get_settings().data_dir)
    with store.read() as connection:
        source = LiveSource(connection, batch_rows, ledger.public_key, batch_ids=reading_batch_ids)
        return verify_source(source, sample=sample, seed=seed)


def _found(outcome: Outcome) -> list[str]:
    return [f"{f.code}: {f.detail}" for f in outcome.findings]


def _sql(store: Store, sql: str) -> None:
    with store.engine.begin() as connection:
        assert connection.execute(text(sql)).rowcount == 1


def test_an_untouched_site_verifies_in_full_and_by_sample(site: Store) -> None:
    """Merged (batch 1 then 2) and rebuilt (the glitch's window) rows all recompute."""
    outcome = _verify(site)
    assert outcome.ok, _found(outcome)
    assert "rollups recomputed from the readings: 2 points" in outcome.notes[-1]
    sampled = _verify(site, sample=6, seed=11)
    assert sampled.ok, _found(sampled)
    assert "a sample of 6 of 6 day × point cells, seed 11" in sampled.notes[-1]
    with site.read() as connection:
        glitch = connection.execute(text("SELECT kind FROM counter_flag")).scalars().all()
    assert glitch == ["glitch"]


TAMPER = {
    "hour_changed": (
        f"UPDATE rollup_hour SET sum = 99.0 WHERE point_id = {POWER} AND hour_us = {HOUR_5}",
        "rollup_changed: rollup_hour, site site, point power, hour 2026-01-01T05:00Z: "
        "stored → recomputed: sum 99.0 → 15.0",
    ),
    "hour_deleted": (
        f"DELETE FROM rollup_hour WHERE point_id = {POWER} AND hour_us = {HOUR_5}",
        "rollup_missing: rollup_hour, site site, point power, hour 2026-01-01T05:00Z: "
        "missing (recomputed n 1, n_valid 1, sum 15.0, delta NULL, resets 0)",
    ),
    "hour_inserted": (
        f"INSERT INTO rollup_hour ({COLUMNS.format(bucket='hour_us')}) SELECT site_id, id, "
        f"{T0_US + 96 * HOUR_US}, 1, 1, 7.0, 7.0, 7.0, {T0_US + 96 * HOUR_US}, "
        f"7.0, {T0_US + 96 * HOUR_US}, 7.0, NULL, 0 FROM point WHERE key = 'power'",
        "rollup_extra: rollup_hour, site site, point power, hour 2026-01-05T00:00Z: stored "
        "row the readings do not give (n 1, n_valid 1, sum 7.0, delta NULL, resets 0)",
    ),
    "day_changed": (
        f"UPDATE rollup_day SET delta = 1100.0 WHERE point_id = {ENERGY} AND day = 20260102",
        "rollup_changed: rollup_day, site site, point energy, day 2026-01-02: "
        "stored → recomputed: delta 1100.0 → 1200.0",
    ),
    "day_deleted": (
        f"DELETE FROM rollup_day WHERE point_id = {ENERGY} AND day = 20260102",
        "rollup_missing: rollup_day, site site, point energy, day 2026-01-02: missing "
        "(recomputed n 24, n_valid 24, sum 54500.0, delta 1200.0, resets 0)",
    ),
    "day_inserted": (
        f"INSERT INTO rollup_day ({COLUMNS.format(bucket='day')}) SELECT site_id, id, "
        "20260109, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 500.0, 0 "
        "FROM point WHERE key = 'energy'",
        "rollup_extra: rollup_day, site site, point energy, day 2026-01-09: stored row the "
        "readings do not give (n 0, n_valid 0, sum NULL, delta 500.0, resets 0)",
    ),
    "flag_deleted": (
        "DELETE FROM counter_flag WHERE kind = 'glitch'",
        "counter_flag_missing: counter_flag, site site, point energy, reading "
        "2026-01-02T06:00:00Z: missing (recomputed glitch)",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_each_rollup_tamper_is_named(site: Store, case: str) -> None:
    """Change, delete, insert a rollup_hour and a rollup_day row (and a counter flag):
    a full verify names exactly that row, its table, point, period and values."""
    sql, expected = TAMPER[case]
    _sql(site, sql)
    assert _found(_verify(site)) == [expected]


def test_a_sample_finds_a_changed_cell_when_it_is_drawn(site: Store) -> None:
    """The 05:00Z power hour lies in the (power, 2026-01-01) cell. A sample of all 6
    cells always finds it; a sample of 1 finds it exactly when that cell is drawn, and
    the same seed draws the same cell."""
    sql, expected = TAMPER["hour_changed"]
    _sql(site, sql)
    assert _found(_verify(site, sample=6)) == [expected]
    hits = []
    for seed in range(24):
        with site.read() as connection:
            outcome = Outcome()
            check = verify_rollups(connection, outcome, sample=1, seed=seed)
        assert check.seed == seed and len(check.drawn) == 1
        drawn = check.drawn[0] == ("site", "power", 20260101)
        assert _found(outcome) == ([expected] if drawn else []), (seed, check.drawn)
        hits.append(drawn)
        with site.read() as connection:
            again = verify_rollups(connection, Outcome(), sample=1, seed=seed)
        assert again.drawn == check.drawn
    assert any(hits) and not all(hits)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_exit_codes_and_the_printed_seed(site: Store, tmp_path: Path) -> None:
    code, out = invoke("verify")
    assert code == 0, out
    code, out = invoke("verify", "--sample", "4", "--seed", "5")
    assert code == 0, out
    assert "seed 5" in out and "--sample 4 --seed 5" in out
    code, out = invoke("verify", "--sample", "4")
    assert code == 0 and "seed " in out, out

    _sql(site, TAMPER["day_changed"][0])
    code, out = invoke("verify")
    assert code == 1, out
    assert "汇总数据被修改 / rollup changed" in out and "delta 1100.0 → 1200.0" in out
    code, out = invoke("verify", "--sample", "6", "--seed", "1")
    assert code == 1 and "1 problem(s) found" in out, out

    assert invoke("verify", "--seed", "3")[0] == 2
    assert invoke("verify", "--sample", "0")[0] == 2
    assert invoke("verify", "--sample", "3", "--export", str(tmp_path / "x"))[0] == 2


def test_staged_readings_are_included_and_left_staged(site: Store) -> None:
    """SQLite stages new rows until compaction; verify compacts inside a savepoint it
    rolls back: the rows count, and stay staged."""
    with site.read() as connection:
        staged = connection.execute(text("SELECT count(*) FROM reading_staging")).scalar_one()
    outcome = _verify(site)
    assert outcome.ok, _found(outcome)
    with site.read() as connection:
        after = connection.execute(text("SELECT count(*) FROM reading_staging")).scalar_one()
    assert after == staged
    if site.engine.dialect.name == "sqlite":
        assert staged > 0  # PostgreSQL copies straight into reading
