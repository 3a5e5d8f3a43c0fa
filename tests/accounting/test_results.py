"""Result versions: re-runs are no-ops, changes supersede, filed periods need acceptance."""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.accounting import results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.store.engine import upgrade


def _result(amount_t: float, co2e_g: int) -> ResultSet:
    return ResultSet(
        site_id="s1",
        source_id="boiler",
        period="2025-03",
        method="combustion",
        lines=(ResultLine("CO2", "1", co2e_g, co2e_g),),
        inputs={"fuel_t": amount_t},
        trace={"formula": "combustion"},
        grade="A",
        coverage=1.0,
        substituted_share=0.0,
    )


def test_versions_lifecycle(db: sa.Engine) -> None:
    upgrade(db)
    with db.begin() as conn:
        first = results.save(conn, _result(100.0, 300_000_000))
        again = results.save(conn, _result(100.0, 300_000_000))
        assert (first.outcome, first.version) == ("created", 1)
        assert (again.outcome, again.version) == ("unchanged", 1)

        corrected = results.save(conn, _result(101.0, 303_000_000))
        assert (corrected.outcome, corrected.version, corrected.status) == (
            "superseded",
            2,
            "current",
        )
        versions = results.history(conn, "s1", "boiler", "2025-03")
        assert [(v["version"], v["status"]) for v in versions] == [
            (1, "superseded"),
            (2, "current"),
        ]
        assert "fuel_t: 100.0 → 101.0" in versions[0]["reason"]

        results.lock(conn, "s1", ["2025-03"], by="accountant")
        late = results.save(conn, _result(102.0, 306_000_000))
        assert (late.outcome, late.status) == ("proposed", "proposed")
        lines = results.current_lines(conn, "s1", ["2025-03"])
        assert [line["co2e_g"] for line in lines] == [303_000_000]  # filed value unchanged

        results.accept(conn, "s1", "boiler", "2025-03", late.version, by="verifier")
        lines = results.current_lines(conn, "s1", ["2025-03"])
        assert [line["co2e_g"] for line in lines] == [306_000_000]
        statuses = [v["status"] for v in results.history(conn, "s1", "boiler", "2025-03")]
        assert statuses == ["superseded", "superseded", "current"]


def test_stale_marks(db: sa.Engine) -> None:
    upgrade(db)
    with db.begin() as conn:
        assert (
            results.mark_stale(conn, "s1", [("boiler", "2025-03"), ("grid", "2025-03")], "late")
            == 2
        )
        assert results.mark_stale(conn, "s1", [("boiler", "2025-03")], "again") == 0
        assert [(s, p) for s, p, _ in results.stale(conn, "s1")] == [
            ("boiler", "2025-03"),
            ("grid", "2025-03"),
        ]
        results.clear_stale(conn, "s1", "boiler", "2025-03")
        assert len(results.stale(conn, "s1")) == 1
