"""What a report is chosen by: the file name's format, the site's sector, the language.

Issue 18 items 11, 13 and 14: ``--out z.xlsx`` without ``--format`` wrote a PDF named
.xlsx; a shipyard's report cited the power-generation guideline; headers showed internal
ids ("fuel_amount [t]", "电网区域 east") and the Chinese report English notes.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.errors import InputError
from tansuan.reports.api import build
from tansuan.reports.formats import render_format
from tansuan.reports.i18n import PARAMETERS
from tansuan.reports.receipt import resolve, sidecar_path
from tansuan.settings import get_settings
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.reports.conftest import plant_store, report_model

POWER_GUIDELINE = "485号"
GENERAL_GUIDELINE = "工业其他行业企业温室气体排放核算方法与报告指南"


def _model(sector: str | None) -> SiteModel:
    data = report_model()
    if sector is not None:
        data["organisation"]["companies"][0]["sites"][0]["sector"] = sector
    return SiteModel.model_validate(data)


def _text(report_html: bytes) -> str:
    text = report_html.decode("utf-8")
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "\n", text))


def test_the_cli_takes_the_format_from_the_file_name_or_refuses_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """``--out z.xlsx`` alone writes a workbook (its receipt inside, verifiable); a
    ``--format`` the extension contradicts, or a name without a report extension, is
    refused before anything is rendered, written or logged."""
    plant_store(db_url).close()
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        base = ["report", "inventory", "--site", "plant", "--year", "2024"]
        out = tmp_path / "z.xlsx"
        result = runner.invoke(app, [*base, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"PK\x03\x04")  # a ZIP (XLSX), not %PDF-
        assert openpyxl.load_workbook(out).sheetnames[0] == "report"
        assert not sidecar_path(out).exists()
        assert runner.invoke(app, ["verify", "--report", str(out)]).exit_code == 0
        receipt, _, _ = resolve(out)
        logged = receipt["tree_size"]

        wrong = tmp_path / "y.xlsx"
        result = runner.invoke(app, [*base, "--format", "pdf", "--out", str(wrong)])
        assert result.exit_code == 1
        assert "--format pdf" in result.output and ".xlsx" in result.output
        assert not wrong.exists()
        unknown = tmp_path / "report.txt"
        result = runner.invoke(app, [*base, "--out", str(unknown)])
        assert result.exit_code == 1 and "--format" in result.output
        assert not unknown.exists()

        html_out = tmp_path / "x.html"
        result = runner.invoke(app, [*base, "--out", str(html_out), "--lang", "en"])
        assert result.exit_code == 0, result.output
        receipt, _, _ = resolve(html_out)
        assert receipt["tree_size"] == logged + 1  # the refused two logged nothing
        assert html_out.read_text("utf-8").startswith("<!DOCTYPE html>")
    finally:
        get_settings.cache_clear()


def test_the_annual_layout_follows_the_sector_never_power_by_default(
    plant: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site without a sector (the shipyard's case) or of a sector other than power gets
    the generic layout citing its sector's guideline; only ``sector: power`` gets 附表
    C.1–C.5 and 485号; ``--layout power`` for another site is refused."""
    plain = _text(render_format(build(plant, _model(None), "annual", "plant", 2024), "html"))
    assert GENERAL_GUIDELINE in plain and POWER_GUIDELINE not in plain
    assert "附表1 报告主体温室气体排放量汇总" in plain and "附表 C.4" not in plain

    steel = build(plant, _model("steel"), "annual", "plant", 2024, lang="en")
    text = _text(render_format(steel, "html"))
    assert "iron and steel producers" in text and POWER_GUIDELINE not in text

    power = _text(render_format(build(plant, _model("power"), "annual", "plant", 2024), "html"))
    assert POWER_GUIDELINE in power and "附表 C.4 购入使用电力、热力排放表" in power

    with pytest.raises(InputError, match="sector: power"):
        build(plant, _model(None), "annual", "plant", 2024, layout="power")
    with pytest.raises(InputError, match="generic"):
        build(plant, _model("power"), "annual", "plant", 2024, layout="generic")
    # confirming the sector's layout is fine
    build(plant, _model("machinery"), "annual", "plant", 2024, layout="generic")


def test_the_cli_does_not_default_to_the_power_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    plant_store(db_url).close()
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        base = ["report", "annual", "--site", "plant", "--year", "2024"]
        out = tmp_path / "annual.html"
        result = runner.invoke(app, [*base, "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = _text(out.read_bytes())
        assert GENERAL_GUIDELINE in text and POWER_GUIDELINE not in text
        result = runner.invoke(app, [*base, "--layout", "power", "--out", str(out)])
        assert result.exit_code == 1 and "sector: power" in result.output
    finally:
        get_settings.cache_clear()


#: parameter ids (words with an underscore) and the English the reports must not show
IDS = re.compile(r"\b(" + "|".join(k for k in PARAMETERS if "_" in k) + r")\b")


@pytest.mark.parametrize("sector", [None, "power"])
@pytest.mark.parametrize("kind", ["annual", "inventory", "energy"])
def test_labels_come_from_the_translation_table(
    plant: Store, kind: str, sector: str | None
) -> None:
    """No parameter id, unit id or grid-region code in either language; no English note
    in the Chinese report (the March default-carbon note is the engine's bilingual one)."""
    texts = {
        lang: _text(
            render_format(build(plant, _model(sector), kind, "plant", 2024, lang=lang), "html")
        )
        for lang in ("zh", "en")
    }
    for lang, text in texts.items():
        # reference ids (fuel.mee_power.raw_coal.carbon_per_heat.2022) may name a parameter
        words = re.sub(r"\S*\.\S*", " ", text)
        assert IDS.findall(words) == [], lang
        assert "dimensionless" not in text and "raw_coal" not in words, lang
    zh, en = texts["zh"], texts["en"]
    if kind == "annual":
        assert "华东区域电网" in zh and "East China grid" in en
        assert "电网区域\neast" not in zh
        assert "消耗量 [t]" in zh and "Fuel consumed [t]" in en
        assert "碳氧化率" in zh and "Carbon oxidation rate" in en
    if kind != "energy":
        assert "2024-03: 无实测 单位热值含碳量，使用指南缺省值" in zh
        assert "the guideline default is used" not in zh
        assert "2024-03: no measured carbon content per unit of heat" in en
        assert "无实测" not in en
    else:
        assert "原煤" in zh and "raw coal" in en
