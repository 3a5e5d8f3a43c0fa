"""Report building and issuing (``tansuan.reports.api``): future periods are refused,
incomplete ones are reported as provisional, on the first page and in the ledger leaf.

The planted plant holds 2024's results. The clock is frozen (tests/conftest.py) at
2026-11-18, when 2024 is complete; to report 2024 as the year under way these tests
freeze it instead at 2024-06-15 (never the real clock).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tansuan import clock
from tansuan.accounting.periods import PROVISIONAL_REASON
from tansuan.errors import InputError
from tansuan.ledger.log import Ledger
from tansuan.reports import formats
from tansuan.reports.api import build, issue_report
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.schema import ledger_leaves

MID_2024 = "2024-06-15T10:30:00+08:00"


def _payload(receipt: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(receipt["leaf_data"]))["payload"])


def _first_page(html: str) -> str:
    """The report's opening: everything before its first section."""
    return html.split("<section", 1)[0]


@pytest.mark.parametrize("kind", ["annual", "inventory", "energy"])
def test_the_year_under_way_is_marked_provisional(
    plant: Store, model: SiteModel, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv(clock.ENV, MID_2024)
    report = build(plant, model, kind, "plant", 2024, None, "zh")
    assert report.provisional
    html = formats.html_content(report)
    assert PROVISIONAL_REASON in _first_page(html)
    assert "临时数据：报告期未结束" in html and "provisional — period not complete" in html
    issued = issue_report(plant, model, ledger, kind, "plant", 2024, None, "html", "zh")
    assert _payload(issued.receipt)["provisional"] is True
    assert PROVISIONAL_REASON in _first_page(issued.document.decode("utf-8"))


def test_a_complete_past_year_carries_no_mark(
    plant: Store, model: SiteModel, ledger: Ledger
) -> None:
    report = build(plant, model, "annual", "plant", 2024, None, "zh")
    assert not report.provisional
    assert PROVISIONAL_REASON not in formats.html_content(report)
    issued = issue_report(plant, model, ledger, "annual", "plant", 2024, None, "html", "zh")
    assert _payload(issued.receipt)["provisional"] is False


def test_a_report_of_a_future_year_is_refused_before_anything_is_logged(
    plant: Store, model: SiteModel, ledger: Ledger
) -> None:
    def leaves() -> int:
        import sqlalchemy as sa

        with plant.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(ledger_leaves)).scalar_one()
            )

    before = leaves()
    for year, month in ((2027, None), (2026, 12)):
        with pytest.raises(InputError, match="has not started yet") as raised:
            issue_report(plant, model, ledger, "annual", "plant", year, month, "html", "zh")
        assert "尚未开始" in str(raised.value)
    assert leaves() == before
