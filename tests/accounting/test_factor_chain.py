"""The factor chain through the store (SQLite and PostgreSQL): measured → site model →
the default of the guideline the site's sector chooses → a clear error.

The plant (site ``works``, Asia/Shanghai, 2024) has one raw-coal boiler fed by manual
series: coal use 10 000 t in January and in February, lab NCV 20 GJ/t in both months,
lab carbon content 0.027 tC/GJ in **January only** (February's analysis is missing).
The fuel energy of a month is 10 000 t × 20 GJ/t = **200 000 GJ = 200 TJ**.

Shipped rows the expected values use (src/tansuan/data):

* fuels.csv ``fuel.mee_power.raw_coal.oxidation``: 99 % (series mee_power, 2021-);
* fuels.csv ``fuel.mee_power.raw_coal.carbon_per_heat.2022``: 0.03085 tC/GJ (2022-);
* fuels.csv has **no** raw_coal row in series mee_2013 (the catalog's default series);
* combustion_ch4_n2o.csv ``ch4.energy_industries.raw_coal`` 1 kg/TJ,
  ``n2o.energy_industries.raw_coal`` 1.5 kg/TJ, ``ch4.manufacturing.raw_coal`` 10 kg/TJ;
* gwp.csv AR6: CH4 27.9, N2O 273; sectors.csv: power → mee_power + energy_industries,
  steel → mee_2013 + manufacturing.

CO2 = energy × C × OF × 44/12 (MEE power-generation guideline; 44/12 exact).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.results import ResultSet
from tansuan.accounting.rollup import grams_to_tonnes
from tansuan.ingest.manual import import_table
from tansuan.site.model import SiteModel
from tansuan.store import Store

SOURCE: dict[str, Any] = {
    "id": "boiler",
    "method": "combustion",
    "fuel": "raw_coal",
    "activity": [{"series": "coal-use"}],
    "parameters": {
        "ncv": {"series": "coal-ncv"},
        "carbon_content_per_heat": {"series": "coal-cc"},
    },
}


def _model(site: dict[str, Any] | None = None, **source: Any) -> dict[str, Any]:
    """The plant's model; ``site`` adds site fields, ``source`` adds or replaces source keys."""
    boiler = copy.deepcopy(SOURCE)
    boiler.update(source)
    return {
        "version": 1,
        "organisation": {
            "id": "grp",
            "companies": [
                {
                    "id": "co",
                    "sites": [
                        {
                            "id": "works",
                            "timezone": "Asia/Shanghai",
                            **(site or {}),
                            "series": [
                                {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                                {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                                {"id": "coal-cc", "kind": "lab_carbon_per_heat", "unit": "tC/GJ"},
                            ],
                            "sources": [boiler],
                        }
                    ],
                }
            ],
        },
    }


def _rows(series: str, unit: str, value: float, months: list[int]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    ]
    for month in months:
        first = dt.date(2024, month, 1)
        last = dt.date(2024, month + 1, 1) - dt.timedelta(days=1)
        rows.append(["works", series, first, last, value, unit, f"{series}-{month}"])
    return rows


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(_model()))
    assert not import_table(store, _rows("coal-use", "t", 10_000, [1, 2]), kind="fuel").errors
    assert not import_table(store, _rows("coal-ncv", "GJ/t", 20, [1, 2]), kind="lab").errors
    assert not import_table(store, _rows("coal-cc", "tC/GJ", 0.027, [1]), kind="lab").errors
    yield store
    store.close()


def _run(store: Store, model: dict[str, Any], month: str) -> ResultSet:
    report = Accountant(store, SiteModel.model_validate(model)).run("works", parse_period(month))
    assert report.errors == []
    (result,) = report.computed
    return result


def _errors(store: Store, model: dict[str, Any], month: str) -> list[str]:
    report = Accountant(store, SiteModel.model_validate(model)).run("works", parse_period(month))
    # The month is never dropped: it is stored as failed, with the same error as its problem.
    assert [r.state for r in report.computed] == ["failed"]
    return [error for _, _, error in report.errors]


def _factor(result: ResultSet, name: str) -> dict[str, Any]:
    return next(p for p in result.trace["factors"] if p["name"] == name)


def test_raw_coal_with_sector_power_uses_the_power_guideline_defaults(store: Store) -> None:
    """``sector: power`` and no oxidation anywhere: OF comes from mee_power (99 %).

    January (lab C 0.027): 200 000 GJ × 0.027 tC/GJ = 5 400 tC; × 0.99 = 5 346 tC;
    × 44/12 = **19 602 t**. February (no lab C): the mee_power default 0.03085 tC/GJ:
    200 000 × 0.03085 = 6 170 tC; × 0.99 = 6 108.3 tC; × 44/12 = **22 397.1 t**.
    """
    model = _model({"sector": "power"})
    january = _run(store, model, "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_602.0, abs=1e-6)
    oxidation = _factor(january, "oxidation")
    assert (oxidation["step"], oxidation["factor_id"]) == (
        "sector_default",
        "fuel.mee_power.raw_coal.oxidation",
    )
    assert _factor(january, "carbon_per_heat")["step"] == "measured"
    assert _factor(january, "ncv")["step"] == "measured"
    chain = january.trace["factor_chain"]
    assert (chain["factor_series"], chain["factor_series_from"]) == ("mee_power", "sector power")
    february = _run(store, model, "2024-02")
    assert grams_to_tonnes(february.co2e_g) == pytest.approx(22_397.1, abs=1e-6)
    carbon = _factor(february, "carbon_per_heat")
    assert (carbon["step"], carbon["factor_id"]) == (
        "sector_default",
        "fuel.mee_power.raw_coal.carbon_per_heat.2022",
    )
    assert any("no measured carbon_content_per_heat" in note for note in february.notes)


def test_each_step_wins_in_order(store: Store) -> None:
    """Carbon content per heat given at every step: the first step with a value wins.

    Site model value 0.028 tC/GJ, sector power (default 0.03085).
    January has a lab value 0.027: **measured** wins → 19 602 t (as above).
    February has none: the **site model** value wins over the sector default:
    200 000 × 0.028 = 5 600 tC; × 0.99 = 5 544 tC; × 44/12 = **20 328 t**.
    """
    model = _model({"sector": "power"}, carbon_content_per_heat="0.028 tC/GJ")
    january = _run(store, model, "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_602.0, abs=1e-6)
    assert _factor(january, "carbon_per_heat")["step"] == "measured"
    february = _run(store, model, "2024-02")
    assert grams_to_tonnes(february.co2e_g) == pytest.approx(20_328.0, abs=1e-6)
    carbon = _factor(february, "carbon_per_heat")
    assert (carbon["step"], carbon["value"]) == ("site_model", 0.028)
    assert any("site model's value is used" in note for note in february.notes)
    assert february.trace["factor_chain"]["steps"]["carbon_content_per_heat"] == "site_model"


def test_site_model_oxidation_beats_the_sector_default(store: Store) -> None:
    """``oxidation: "98 %"`` on the source: January 5 400 tC × 0.98 = 5 292 tC;
    × 44/12 = **19 404 t**; the step is site_model."""
    model = _model({"sector": "power"}, oxidation="98 %")
    january = _run(store, model, "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_404.0, abs=1e-6)
    oxidation = _factor(january, "oxidation")
    assert oxidation["step"] == "site_model"
    assert oxidation["value"] == pytest.approx(0.98)


def test_the_old_parameters_form_still_works(store: Store) -> None:
    """``parameters: {oxidation: {value: 0.98}, series: {value: mee_power}}`` — the
    undocumented form — gives the same 19 404 t, traced as site_model."""
    parameters = {**SOURCE["parameters"], "oxidation": {"value": 0.98}}
    parameters["series"] = {"value": "mee_power"}
    january = _run(store, _model(parameters=parameters), "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_404.0, abs=1e-6)
    assert _factor(january, "oxidation")["step"] == "site_model"


def test_factor_series_of_the_source_overrides_the_sector(store: Store) -> None:
    """A steel site (mee_2013, no raw_coal row) with a source that names
    ``factor_series: mee_power``: OF 99 % from mee_power → January **19 602 t**."""
    model = _model({"sector": "steel"}, factor_series="mee_power")
    january = _run(store, model, "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_602.0, abs=1e-6)
    assert _factor(january, "oxidation")["step"] == "sector_default"
    assert january.trace["factor_chain"]["factor_series_from"] == "source"


def test_no_value_anywhere_is_a_clear_error(store: Store) -> None:
    """No sector: the catalog's default series mee_2013 has no raw_coal row. January
    (lab C given) fails on the oxidation rate, February on the carbon content; each
    error names the parameter, the source, the series looked in, where a default
    exists and the fix. Nothing is saved."""
    (january,) = _errors(store, _model(), "2024-01")
    assert "source boiler has no oxidation" in january
    assert "series mee_2013 (catalog)" in january
    assert "series with a default for raw_coal: mee_power" in january
    assert "`oxidation:`" in january and "`sector:`" in january
    (february,) = _errors(store, _model(), "2024-02")
    assert "source boiler has no carbon_content_per_heat" in february
    assert "parameters.carbon_content_per_heat reads coal-cc" in february


def test_ch4_n2o_category_follows_the_sector_and_gwp_the_site(store: Store) -> None:
    """``ch4_n2o: true``, ``sector: power`` → energy_industries (Table 2.2); site ``gwp: AR6``.

    January: 200 TJ × 1 kg/TJ = 200 kg = **0.2 t CH4**; 200 × 1.5 = **0.3 t N2O**.
    CO2e = 19 602 + 0.2 × 27.9 + 0.3 × 273 = 19 602 + 5.58 + 81.9 = **19 689.48 t**.
    With a plant-specific ``ch4_factor: 2`` [kg/TJ] (site model) on a steel site with
    ``factor_series: mee_power`` (category manufacturing, N2O 1.5 kg/TJ): CH4 0.4 t,
    N2O 0.3 t → 19 602 + 0.4 × 27.9 + 81.9 = 19 602 + 11.16 + 81.9 = **19 695.06 t**.
    """
    model = _model({"sector": "power", "gwp": "AR6"}, ch4_n2o=True)
    january = _run(store, model, "2024-01")
    gases = {line.gas: grams_to_tonnes(line.mass_g) for line in january.lines}
    assert gases["CH4"] == pytest.approx(0.2, abs=1e-6)
    assert gases["N2O"] == pytest.approx(0.3, abs=1e-6)
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_689.48, abs=1e-5)
    assert january.trace["gwp_set"] == "AR6"
    assert _factor(january, "ch4_factor")["step"] == "sector_default"
    assert january.trace["factor_chain"]["ch4_n2o_category"] == "energy_industries"
    steel = _model(
        {"sector": "steel", "gwp": "AR6"}, ch4_n2o=True, ch4_factor=2, factor_series="mee_power"
    )
    january = _run(store, steel, "2024-01")
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(19_695.06, abs=1e-5)
    assert _factor(january, "ch4_factor")["step"] == "site_model"
    n2o = _factor(january, "n2o_factor")
    assert (n2o["step"], n2o["factor_id"]) == ("sector_default", "n2o.manufacturing.raw_coal")


def test_two_site_model_values_of_one_parameter_are_refused() -> None:
    """``oxidation:`` and ``parameters.oxidation.value`` at once: ambiguous, refused."""
    parameters = {**SOURCE["parameters"], "oxidation": {"value": 0.97}}
    with pytest.raises(pydantic.ValidationError, match="oxidation is given twice"):
        SiteModel.model_validate(_model(oxidation=0.98, parameters=parameters))
    with pytest.raises(pydantic.ValidationError, match="factor_series is given twice"):
        SiteModel.model_validate(
            _model(
                factor_series="mee_power",
                parameters={**SOURCE["parameters"], "series": {"value": "mee_2013"}},
            )
        )


def test_activity_file_sector_chooses_the_series() -> None:
    """``tansuan calc`` files take ``sector:`` like a site model.

    10 000 t raw coal, NCV 20 GJ/t given, sector power: carbon 0.03085 tC/GJ and OF 99 %
    from mee_power (2024 → the 2022 row): 200 000 × 0.03085 × 0.99 × 44/12 =
    **22 397.1 t CO2**; ``ch4_n2o: true`` → energy_industries: 200 TJ × 1 kg/TJ = 0.2 t
    CH4, × 1.5 = 0.3 t N2O; AR5 (CH4 28, N2O 265): 22 397.1 + 5.6 + 79.5 = **22 482.2 t**.
    Without the sector the series is mee_2013, which has no raw coal: a clear error.
    """
    from tansuan.accounting.activity_file import calculate
    from tansuan.errors import MissingParameter, UnknownFactor

    source = {"id": "b", "method": "combustion", "fuel": "raw_coal", "amount": "10000 t",
              "ncv": "20 GJ/t", "ch4_n2o": True}  # fmt: skip
    doc = {"gwp": "AR5", "year": 2024, "sector": "power", "sources": [source]}
    (outcome,) = calculate(doc).sources
    assert outcome.gases_t["CO2"] == pytest.approx(22_397.1, abs=1e-6)
    assert outcome.co2e_t == pytest.approx(22_482.2, abs=1e-6)
    with pytest.raises(MissingParameter, match="mee_2013"):
        calculate({**doc, "sector": None})
    with pytest.raises(UnknownFactor, match="unknown sector 'mining'") as caught:
        calculate({**doc, "sector": "mining"})
    assert caught.value.field == "sector"


def test_report_appendix_names_a_site_model_value(store: Store) -> None:
    """The reports' traceability appendix reads the step: a site-model oxidation (0.98)
    is described with where it is written, not with lab evidence it does not have."""
    from tansuan.reports.traces import parameter_items

    january = _run(store, _model({"sector": "power"}, oxidation=0.98), "2024-01")
    items = {item.name: item for item in parameter_items(january.trace)}
    assert items["oxidation"].evidence == "site model: sources.boiler.oxidation"
    assert items["ncv"].evidence.startswith("coal-ncv: ")  # the lab series' documents
