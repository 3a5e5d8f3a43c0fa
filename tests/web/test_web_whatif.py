"""The what-if page runs the digital twin forward and compares with the baseline."""

from __future__ import annotations

import re

from tests.web.conftest import Deployment


def test_fan_scheduling_saves_electricity_on_the_twin(deployment: Deployment) -> None:
    """Scheduled fan control lowers the shipyard's electricity and scope 2 (the twin's
    ~30 % fan case) and leaves the boiler's fuel — scope 1 — as it was."""
    alice = deployment.client("alice")
    page = alice.get("/whatif")
    assert page.status_code == 200 and 'id="whatif-form"' in page.text
    result = alice.get("/ui/whatif", params={"site": "shipyard", "fan_schedule": "1", "days": 7})
    assert result.status_code == 200, result.text
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>.*?<td class=\"num\">([^<]+)</td></tr>",
                           result.text.replace("\n", "")))  # fmt: skip
    # the page's language only (zh-CN by default), no English beside the Chinese
    assert set(rows) == {"电力 MWh", "综合能耗 tce", "范围一 tCO2e", "范围二 tCO2e", "合计 tCO2e",
                         "成本 CNY"}  # fmt: skip
    assert rows["电力 MWh"].startswith("-")
    assert rows["范围二 tCO2e"].startswith("-")
    assert rows["范围一 tCO2e"] == "+0.0%"
    assert 'id="whatif-title">风机定时控制<' in result.text
    refused = alice.get("/ui/whatif", params={"days": 3})
    # the form's error fragment, in the page's language (zh-CN by default), no whole page
    assert refused.status_code == 400 and "天数须在 7 到 366 之间" in refused.text
    assert "<nav" not in refused.text
    alice.get("/lang/en")
    english = alice.get("/ui/whatif", params={"site": "shipyard", "fan_schedule": "1", "days": 7})
    assert "<td>scope 2 tCO2e</td>" in english.text and "范围" not in english.text
    assert 'id="whatif-title">fan schedule<' in english.text


def test_whatif_needs_a_login(deployment: Deployment) -> None:
    anonymous = deployment.client()
    response = anonymous.get("/whatif", follow_redirects=False)
    assert response.status_code in (302, 303, 401, 403)
