"""A report over a missing source-month says "incomplete — not for submission" on its
first page, in its XLSX and in its ledger leaf, lists the month with its reason and fix,
gives no intensity for it, and says how much is substituted (issue 15 items 1 and 2).

The plant is the report tests' plant (tests/reports/conftest.py: coal and grid for 2024,
50 000 t of output a month) plus a gas boiler ``boiler2`` whose gas use was entered for
every month but May: May of ``boiler2`` is ``missing`` (no data, no declared shutdown).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.problems import INCOMPLETE_REASON
from tansuan.ingest.manual import import_table
from tansuan.ledger.log import Ledger
from tansuan.reports import formats
from tansuan.reports.api import build, issue_report
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.accounting.test_engine import _manual_rows
from tests.reports.conftest import plant_store, report_model

NOT_MAY = [m for m in range(1, 13) if m != 5]


def _model() -> dict[str, Any]:
    model = report_model()
    site = model["organisation"]["companies"][0]["sites"][0]
    site["series"].append({"id": "gas-use", "kind": "fuel_consumption", "unit": "Nm3"})
    site["sources"].append(
        {
            "id": "boiler2",
            "method": "combustion",
            "fuel": "natural_gas",
            "activity": [{"series": "gas-use"}],
        }
    )
    return model


@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, SiteModel]]:
    path = tmp_path_factory.mktemp("incomplete") / "plant.db"
    store = plant_store(f"sqlite:///{path}")
    model = SiteModel.model_validate(_model())
    store.load_model(model)
    rows = _manual_rows("gas-use", "Nm3", 100_000, NOT_MAY)
    assert not import_table(store, rows, kind="fuel").errors
    report = Accountant(store, model).run("plant", parse_period("2024"), sources=["boiler2"])
    assert [(r.period, r.state) for r in report.problems()] == [("2024-05", "missing")]
    yield store, model
    store.close()


def _payload(receipt: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(receipt["leaf_data"]))["payload"])


def _first_page(html: str) -> str:
    return html.split("<section", 1)[0]


@pytest.mark.parametrize("kind", ["annual", "inventory", "energy"])
def test_every_report_with_a_missing_month_is_marked_incomplete(
    gappy: tuple[Store, SiteModel], kind: str, tmp_path: Path
) -> None:
    store, model = gappy
    report = build(store, model, kind, "plant", 2024, None, "zh")
    assert report.incomplete and report.totals["incomplete"] is True
    html = formats.html_content(report)
    assert INCOMPLETE_REASON in _first_page(html)
    listed = report.table("incomplete")
    assert [(r[0], r[1]) for r in listed.rows] == [("boiler2", "2024-05")]
    assert "no activity data" in str(listed.rows[0][3])
    assert "declare shutdown" in str(listed.rows[0][4])
    book = load_workbook(io.BytesIO(formats.xlsx(report)))
    about = [row[0] for row in book["report"].iter_rows(values_only=True)]
    assert INCOMPLETE_REASON in about
    ledger = Ledger.from_data_dir(tmp_path)
    issued = issue_report(store, model, ledger, kind, "plant", 2024, None, "html", "zh")
    payload = _payload(issued.receipt)
    assert payload["incomplete"] is True
    assert payload["totals"]["incomplete"] is True


def test_substitution_is_stated_and_the_old_wording_is_gone(
    gappy: tuple[Store, SiteModel],
) -> None:
    """No source of this plant is filled by a substitution rule: the coal is manual data and
    the grid meter's August gap is bridged by its register difference (consumption is
    measured, not substituted), so the substituted CO2e is 0 g and no rule is named. The
    quality section says so instead of "缺失数据按保守原则处理", and lists May as missing."""
    store, model = gappy
    report = build(store, model, "annual", "plant", 2024, None, "zh")
    assert report.totals["substituted_co2e_g"] == 0
    assert report.totals["substitution_rules"] == []
    html = formats.html_content(report)
    assert "缺失数据按保守原则处理" not in html
    assert "本期无替代数据" in html
    quality = {(row[0], row[1]): row for row in report.table("quality").rows}
    assert quality[("boiler2", "2024-05")][2] == "缺失"
    assert quality[("boiler2", "2024-05")][3] is None  # no coverage figure, not 0 %


def test_no_intensity_for_the_incomplete_month_or_year(gappy: tuple[Store, SiteModel]) -> None:
    """May has a missing source: its intensity is blank (not the smaller number the other
    sources alone would give), and so is the year's; April has one."""
    store, model = gappy
    report = build(store, model, "annual", "plant", 2024, None, "en")
    table = report.table("production")
    rows = {row[0]: row for row in table.rows}
    may, april = rows[report_month(report, "2024-05")], rows[report_month(report, "2024-04")]
    assert may[-1] is None
    assert isinstance(april[-1], float) and april[-1] > 0
    (total,) = [table.rows[i] for i in table.total_rows]
    assert total[-1] is None
    assert any("no intensity" in note for note in table.notes)


def report_month(report: Any, label: str) -> str:
    """The month label as the report's table shows it (the en month name)."""
    from tansuan.reports.i18n import Lang

    return str(Lang(report.lang).month(label))


def test_a_complete_year_is_not_marked(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "annual", "plant", 2024, None, "zh")
    assert not report.incomplete and report.totals["incomplete"] is False
    assert INCOMPLETE_REASON not in formats.html_content(report)


def test_the_forecast_refuses_a_history_with_a_missing_month(
    gappy: tuple[Store, SiteModel],
) -> None:
    """The forecast reads the monthly totals: May without ``boiler2`` would read as a
    too-small month, so the history is refused, naming the month, its reason and the fix."""
    from tansuan.errors import InputError
    from tansuan.views import forecast

    store, _ = gappy
    with store.read() as conn, pytest.raises(InputError) as caught:
        forecast.emission_history(conn, "plant", "2024-01", "2024-12")
    message = caught.value.message
    assert "boiler2 2024-05" in message and "incomplete accounting" in message
    assert "declare shutdown" in message


def test_substituted_co2e_and_rule_from_the_traces(gappy: tuple[Store, SiteModel]) -> None:
    """The substituted CO2e is Σ over results of CO2e × substituted share, and the rules
    are those the traces' fills name. Here coal's January (19 602 t, tests/accounting/
    test_engine.py COAL_MONTH_T) is given a substituted share of 5 % and one HJ 75 fill:
    19 602 t × 0.05 = 980.1 t = 980 100 000 g, rule "HJ 75-2017 mean_of_neighbours"."""
    import dataclasses

    from tansuan.reports import completeness
    from tansuan.reports.gather import gather

    store, model = gappy
    inputs = gather(store, model, "plant", 2024)
    info = inputs.sets[("coal", "2024-01")]
    rule = "HJ 75-2017 mean_of_neighbours"
    trace = {**info.trace, "data": {"activity": [{"fills": [{"rule": rule}]}]}}
    inputs.sets[("coal", "2024-01")] = dataclasses.replace(
        info, substituted_share=0.05, trace=trace
    )
    found = completeness.of(inputs)
    assert found.substituted_co2e_g == 980_100_000
    assert found.substitution_rules == [rule]
    assert [(p["source_id"], p["period"]) for p in found.problems] == [("boiler2", "2024-05")]
