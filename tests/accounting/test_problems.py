"""No source-month is ever absent: each is computed, or recorded as failed or missing with
its reason and its fix (issue 15 items 1 and 2), on SQLite and PostgreSQL.

One site (``p``, Asia/Shanghai), March 2024 (long past the frozen "today", 2026-11-18).
A failure is injected into every method the dispatch knows — combustion, process,
electricity, heat, CEMS, refrigerant, mass balance, direct — and each month must come
back as ``failed``: a result set with no lines (its CO2e is unknown, never 0), a bilingual
reason naming the error and a fix. A source with no data is ``missing``; the same with a
declared shutdown is a true zero; a month outside ``active`` is ``inactive``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.accounting import problems
from tansuan.accounting.declare import declare_shutdown, listed
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.results import ResultSet, problem_sets
from tansuan.cli import app
from tansuan.errors import InputError, UnknownFactor
from tansuan.settings import get_settings
from tansuan.site.model import SiteModel
from tansuan.site.validate import check
from tansuan.store import Store


def _source(ident: str, method: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "method": method, **extra}


#: Each injected failure: source → (method, the problem kind it must be reported as).
FAILING = {
    "coal": ("combustion", "no_factor"),  # a fuel the catalog does not know
    "kiln": ("process", "no_factor"),  # a material without a factor
    "grid": ("electricity", "unit"),  # an amount in tonnes, not energy
    "steam": ("heat", "unit"),  # an amount in kg, not energy
    "stack": ("cems", "config"),  # one activity point where CEMS needs two
    # an activity amount, which the refrigerant balance (stocks, purchases, charges) does
    # not take: the engine cannot feed this method from the store yet, so every
    # refrigerant month fails this way — reported, not dropped
    "chiller": ("refrigerant", "input"),
    "reactor": ("mass_balance", "config"),  # needs stream lists: refused from the store
    "sf6": ("direct", "no_factor"),  # a gas without a GWP
}

MODEL: dict[str, Any] = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "p",
                        "timezone": "Asia/Shanghai",
                        "areas": [
                            {
                                "id": "a",
                                "devices": [
                                    {
                                        "id": "boiler",
                                        "class": "boiler",
                                        "points": [
                                            {
                                                "id": "co2",
                                                "quantity": "concentration",
                                                "unit": "mg/m3",
                                                "interval_s": 3600,
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                        "series": [
                            {"id": "gas-use", "kind": "fuel_consumption", "unit": "Nm3"},
                            {"id": "idle-use", "kind": "fuel_consumption", "unit": "Nm3"},
                            {"id": "new-use", "kind": "fuel_consumption", "unit": "Nm3"},
                        ],
                        "sources": [
                            _source(
                                "coal",
                                "combustion",
                                fuel="no_such_fuel",
                                activity=[{"value": "100 t"}],
                                cross_check="stack",
                            ),
                            _source(
                                "kiln",
                                "process",
                                material="no_such_material",
                                activity=[{"value": "100 t"}],
                            ),
                            _source("grid", "electricity", activity=[{"value": "5 t"}]),
                            _source("steam", "heat", activity=[{"value": "10 kg"}]),
                            _source("stack", "cems", activity=[{"point": "co2"}]),
                            _source(
                                "chiller",
                                "refrigerant",
                                material="HFC-134a",
                                activity=[{"value": "1 t"}],
                            ),
                            _source("reactor", "mass_balance", activity=[{"value": "1 t"}]),
                            _source(
                                "sf6", "direct", material="NOT_A_GAS", activity=[{"value": "1 t"}]
                            ),
                            # no data at all: missing
                            _source(
                                "gas",
                                "combustion",
                                fuel="natural_gas",
                                activity=[{"series": "gas-use"}],
                            ),
                            # no data, but a declared shutdown (test below): a true zero
                            _source(
                                "idle",
                                "combustion",
                                fuel="natural_gas",
                                activity=[{"series": "idle-use"}],
                            ),
                            # commissioned in April: March is inactive
                            _source(
                                "new",
                                "combustion",
                                fuel="natural_gas",
                                activity=[{"series": "new-use"}],
                                active={"from": "2024-04-01"},
                            ),
                        ],
                    }
                ],
            }
        ],
    },
}


@pytest.fixture
def plant(db_url: str) -> Iterator[tuple[Store, Accountant, SiteModel]]:
    store = Store(db_url)
    model = SiteModel.model_validate(MODEL)
    store.load_model(model)
    yield store, Accountant(store, model), model
    store.close()


def _by_source(sets: list[ResultSet]) -> dict[str, ResultSet]:
    return {r.source_id: r for r in sets}


@pytest.mark.parametrize("source", sorted(FAILING))
def test_a_failure_in_each_method_is_reported_not_dropped(
    plant: tuple[Store, Accountant, SiteModel], source: str
) -> None:
    """The month is in the run, stored as ``failed``, with no lines, its reason and fix."""
    store, accountant, _ = plant
    method, kind = FAILING[source]
    report = accountant.run("p", parse_period("2024-03"), sources=[source])
    (result,) = report.computed
    assert (result.source_id, result.period, result.method) == (source, "2024-03", method)
    assert (result.state, result.lines, result.grade) == ("failed", (), "D")
    reason, fix = problems._TEXT[kind]
    assert result.problem is not None and result.problem.startswith(reason)
    assert result.fix == fix
    assert report.problems() == [result]
    # stored and listed where the month is shown
    with store.read() as conn:
        (row,) = problem_sets(conn, "p", ["2024-03"], include_checks=True)
    assert (row["source_id"], row["state"], row["problem"]) == (source, "failed", result.problem)


def test_error_kinds_map_to_their_texts() -> None:
    """Each kind gives a bilingual reason (Chinese / English) that names the error."""
    found = problems.failed(UnknownFactor("no raw_coal default in mee_2013"))
    assert found.kind == "no_factor" and found.state == "failed"
    assert "no raw_coal default in mee_2013" in found.problem
    assert " / " in found.problem and " / " in found.fix
    assert problems.failed(InputError("bad")).kind == "input"
    assert problems.missing().state == "missing"


def test_no_data_is_missing_a_declaration_makes_it_zero_and_inactive_is_neither(
    plant: tuple[Store, Accountant, SiteModel], tmp_path: Path
) -> None:
    """``gas`` has no data and no declaration: missing (no lines, grade D). ``idle`` has no
    data and a shutdown declared over all of March (1–31): a true zero, computed, with the
    declaration in its trace. ``new`` starts 2024-04-01: March is inactive."""
    store, accountant, model = plant
    evidence = tmp_path / "shutdown-notice.pdf"
    evidence.write_bytes(b"%PDF-1.4 boiler laid up for overhaul")
    declared = declare_shutdown(
        store,
        model,
        site="p",
        source="idle",
        date_from=dt.date(2024, 3, 1),
        date_to=dt.date(2024, 3, 31),
        reason="annual overhaul",
        evidence=evidence,
        by="test",
    )
    assert declared.evidence_sha256 == hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert [d.id for d in listed(store, "p")] == [declared.id]

    report = accountant.run("p", parse_period("2024-03"), sources=["gas", "idle", "new"])
    found = _by_source(report.computed)
    gas, idle, new = found["gas"], found["idle"], found["new"]
    assert (gas.state, gas.lines, gas.grade) == ("missing", (), "D")
    assert gas.problem == problems.missing().problem
    assert idle.state == "computed" and idle.co2e_g == 0 and idle.lines
    assert idle.trace["data"]["declarations"][0]["reason"] == "annual overhaul"
    assert any("declared shutdown" in note for note in idle.notes)
    assert (new.state, new.lines) == ("inactive", ())
    assert [r.source_id for r in report.problems()] == ["gas"]


def test_a_partial_declaration_leaves_the_rest_of_the_month_missing(
    plant: tuple[Store, Accountant, SiteModel],
) -> None:
    """A shutdown over March 1–15 does not make March 16–31 a zero: still missing."""
    store, accountant, model = plant
    declare_shutdown(
        store,
        model,
        site="p",
        source="gas",
        date_from=dt.date(2024, 3, 1),
        date_to=dt.date(2024, 3, 15),
        reason="half a month",
        evidence=None,
        by="test",
    )
    (gas,) = accountant.run("p", parse_period("2024-03"), sources=["gas"]).computed
    assert gas.state == "missing"


def test_bad_declarations_are_refused_and_nothing_is_stored(
    plant: tuple[Store, Accountant, SiteModel], tmp_path: Path
) -> None:
    store, _, model = plant
    good = {
        "site": "p",
        "source": "gas",
        "date_from": dt.date(2024, 3, 1),
        "date_to": dt.date(2024, 3, 2),
        "reason": "r",
        "evidence": None,
        "by": "t",
    }
    for change, field in [
        ({"source": "nope"}, "source"),
        ({"date_to": dt.date(2024, 2, 1)}, "to"),
        ({"reason": "  "}, "reason"),
        ({"evidence": tmp_path / "absent.pdf"}, "evidence"),
    ]:
        with pytest.raises(InputError) as caught:
            declare_shutdown(store, model, **{**good, **change})  # type: ignore[arg-type]
        assert caught.value.field == field
    assert listed(store) == []


def test_gap_fill_styles_that_invent_data_are_refused() -> None:
    """``previous_average`` and ``default`` make up a month: ``site validate`` refuses them."""
    for style in ("previous_average", "default"):
        document = json.loads(json.dumps(MODEL))
        document["organisation"]["companies"][0]["sites"][0]["sources"][8]["gap_fill"] = style
        _, issues = check(document)
        assert [(i.code, i.path) for i in issues] == [
            ("gap_fill.invents_data", "organisation.companies[0].sites[0].sources[8].gap_fill")
        ]


def test_active_period_is_validated() -> None:
    document = json.loads(json.dumps(MODEL))
    document["organisation"]["companies"][0]["sites"][0]["sources"][10]["active"] = {
        "from": "2024-04-01",
        "to": "2024-03-01",
    }
    _, issues = check(document)
    assert len(issues) == 1 and "before active.from" in issues[0].detail


@pytest.fixture
def workdir(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_account_exits_3_and_lists_every_problem(workdir: Path) -> None:
    """``tansuan account`` exits 3 when any source-month failed or is missing: the table
    lists each with its reason and fix; ``--json`` has ``problems`` and null CO2e."""
    model = workdir / "site.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["site", "load", str(model)]).exit_code == 0
    notice = workdir / "notice.txt"
    notice.write_text("laid up", encoding="utf-8")
    declared = runner.invoke(
        app,
        ["declare", "shutdown", "idle", "--site", "p", "--from", "2024-03-01",
         "--to", "2024-03-31", "--reason", "overhaul", "--evidence", str(notice)],
    )  # fmt: skip
    assert declared.exit_code == 0, declared.output
    listing = json.loads(runner.invoke(app, ["declare", "list", "--json"]).output)
    assert listing[0]["evidence_sha256"] == hashlib.sha256(b"laid up").hexdigest()
    assert listing[0]["leaf_index"] is not None  # in the ledger

    args = ["account", "--site", "p", "--period", "2024-03"]
    table = runner.invoke(app, args)
    assert table.exit_code == 3, table.output
    assert "数据不完整 incomplete" in table.output
    for source in [*FAILING, "gas"]:
        assert source in table.output
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 3
    body = json.loads(out.output)
    assert sorted(p["source"] for p in body["problems"]) == sorted([*FAILING, "gas"])
    assert all(p["problem"] and p["fix"] for p in body["problems"])
    states = {r["source"]: (r["state"], r["co2e_t"]) for r in body["results"]}
    assert states["gas"] == ("missing", None)
    assert states["coal"] == ("failed", None)
    assert states["idle"] == ("computed", 0.0)
    assert states["new"] == ("inactive", None)
    assert body["complete"] is False


def test_the_cross_check_of_two_unknown_months_is_missing_not_a_pass(
    plant: tuple[Store, Accountant, SiteModel],
) -> None:
    """``coal`` (failed) is cross-checked against ``stack`` (failed): no figure on either
    side, so the month shows ``missing`` — no difference, not flagged, never "0 vs 0 ✓"."""
    _, accountant, _ = plant
    accountant.run("p", parse_period("2024-03"), sources=["coal", "stack"])
    (check,) = accountant.cross_checks("p", parse_period("2024-03"))["coal~stack"]
    assert (check.period, check.state) == ("2024-03", "missing")
    assert (check.calculated_co2_g, check.measured_co2_g) == (None, None)
    assert (check.relative_difference, check.flagged) == (None, False)


def test_a_declaration_after_the_run_turns_the_missing_month_into_a_zero(
    plant: tuple[Store, Accountant, SiteModel],
) -> None:
    """March of ``gas`` is saved as missing (v1). Declaring the shutdown afterwards marks
    the month stale; recalculating it saves v2, a declared zero, superseding v1."""
    store, accountant, model = plant
    (first,) = accountant.run("p", parse_period("2024-03"), sources=["gas"]).computed
    assert first.state == "missing"
    declare_shutdown(
        store,
        model,
        site="p",
        source="gas",
        date_from=dt.date(2024, 2, 20),
        date_to=dt.date(2024, 4, 10),
        reason="gas supply cut",
        evidence=None,
        by="test",
    )
    stale = accountant.recalculate_stale("p")
    (again,) = stale.computed
    assert (again.period, again.state, again.co2e_g) == ("2024-03", "computed", 0)
    assert [(s.version, s.outcome) for s in stale.saved] == [(2, "superseded")]
    with store.read() as conn:
        assert problem_sets(conn, "p", ["2024-03"]) == []
