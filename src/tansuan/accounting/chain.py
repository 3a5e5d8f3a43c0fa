"""The factor chain: where each parameter of a source-month comes from, in one resolver.

For every parameter a method uses (NCV, carbon content, oxidation rate, CH4/N2O factors,
grid or process factors, …) the first step that has a value supplies it:

1. ``measured`` — the month's measured value: a lab series or a point named in the
   source's ``parameters:`` (``parameters: {ncv: {series: coal-ncv}}``);
2. ``site_model`` — the source's own value in the site model (``oxidation: 0.98``, or the
   older ``parameters: {oxidation: {value: 0.98}}``);
3. ``sector_default`` — the default of the guideline that applies: the factor series the
   source's ``factor_series:`` or its site's ``sector:`` chooses (``data/sectors.csv``:
   power → ``mee_power``; steel, cement, … → ``mee_2013``), and for CH4/N2O the IPCC
   category (``ch4_n2o_category:`` or the sector's); ``default`` — the catalog's default
   series when neither is set, and every constant (44/12, GWPs, CEMS constants);
4. an error naming the parameter, the source, the series looked in and how to fix it.

Two candidates at one step (``oxidation:`` and ``parameters.oxidation.value``) are
refused when the site model is read (:class:`tansuan.site.model.EmissionSource`).
The trace of each result says which step supplied each value (``step`` on every
parameter, and a ``factor_chain`` section).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tansuan.accounting import inputs
from tansuan.accounting.method_inputs import Measure
from tansuan.accounting.periods import Period
from tansuan.domain import sectors, tables, units
from tansuan.domain.catalog import FactorCatalog
from tansuan.errors import Issue, MissingParameter, UnitError
from tansuan.site.model import PARAMETER_FIELDS, EmissionSource, Site, SiteModel

MEASURED = "measured"
SITE_MODEL = "site_model"
SECTOR_DEFAULT = "sector_default"
DEFAULT = "default"
#: The steps of the chain, first wins.
STEPS = (MEASURED, SITE_MODEL, SECTOR_DEFAULT, DEFAULT)

#: Parameter key → the catalog kind its default is looked up as (combustion fuels).
FUEL_KINDS = {"ncv": "ncv", "carbon_content_per_heat": "carbon_per_heat", "oxidation": "oxidation"}
#: Parameters that are fractions (checked 0 < x <= 1 for oxidation, 0 <= x <= 1 else).
FRACTIONS = ("oxidation", "carbonate_fraction", "conversion")
#: Which reference table's series a source's ``factor_series`` names, by method.
SERIES_TABLES = {"combustion": "fuels", "electricity": "grid", "heat": "heat"}
#: The parameters each method reads (the others are refused by the method).
METHOD_PARAMETERS: dict[str, frozenset[str]] = {
    "combustion": frozenset(
        {
            "ncv",
            "carbon_content",
            "carbon_content_per_heat",
            "oxidation",
            "co2_factor",
            "density",
            "ch4_factor",
            "n2o_factor",
        }
    ),
    "electricity": frozenset({"factor", "residual_factor"}),
    "heat": frozenset({"factor"}),
    "process": frozenset({"factor", "carbonate_fraction", "conversion"}),
}


@dataclass(frozen=True)
class SeriesChoice:
    """The factor series and CH4/N2O category a source's defaults are looked up in.

    ``*_from`` says who chose: ``source`` (its ``factor_series:`` / ``ch4_n2o_category:``
    or the older ``parameters: {series: …}``), ``sector <name>``, or ``catalog`` (the
    table's default series, no choice made).
    """

    factor_series: str | None
    factor_series_from: str
    ch4_n2o_category: str | None
    ch4_n2o_from: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor_series": self.factor_series,
            "factor_series_from": self.factor_series_from,
            "ch4_n2o_category": self.ch4_n2o_category,
            "ch4_n2o_from": self.ch4_n2o_from,
        }


def choose_series(site: Site, source: EmissionSource) -> SeriesChoice:
    """Which series the source's defaults come from: its own choice, its site's sector's,
    or none (the catalog's default series)."""
    own = source.site_values()
    sector = sectors.sector(site.sector) if site.sector else None
    series, series_from = own.get("series"), "source"
    if series is None and sector is not None and source.method == "combustion":
        series, series_from = sector.factor_series, f"sector {sector.name}"
    if series is None:
        series_from = "catalog"
    category, category_from = own.get("ch4_n2o"), "source"
    wants_ch4_n2o = source.ch4_n2o or category is not None
    if category is None and wants_ch4_n2o and sector is not None:
        category, category_from = sector.ch4_n2o_category, f"sector {sector.name}"
    if category is None and wants_ch4_n2o:
        # CH4/N2O asked for with no category: the table's default series.
        meta = tables.metadata("combustion_ch4_n2o").get("default_series") or {}
        category = meta.get("ch4_combustion")
    if category_from == "source" and own.get("ch4_n2o") is None:
        category_from = "catalog"
    return SeriesChoice(
        None if series is None else str(series),
        series_from,
        None if category is None else str(category),
        category_from,
    )


@dataclass
class Chain:
    """What the chain decided for one source-month: the series and each parameter's step."""

    choice: SeriesChoice
    source: str = ""  #: the source's id
    steps: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.choice.as_dict(), "steps": dict(sorted(self.steps.items()))}


def resolve(
    ctx: inputs.Context,
    source: EmissionSource,
    month: Period,
    typed: dict[str, object],
    written: dict[str, Any],
    notes: list[str],
) -> tuple[dict[str, Any], Chain]:
    """The source's parameters for ``month``, into ``typed`` (measured) or ``written``
    (site-model values as written; the activity-file reader reads them).

    Returns where each parameter came from (for the trace's ``data`` section and the
    inputs digest) and the chain's decisions; the defaults (step 3) are filled by the
    method dispatch from the series chosen here.
    """
    chain = Chain(choose_series(ctx.site, source), source.id)
    own = source.site_values()
    used: dict[str, Any] = {}
    for name, ref in source.parameters.items():
        if source.method == "cems" and name in inputs.CEMS_HOURLY and ref.point is not None:
            continue  # already given hour by hour with the concentration and flow
        if ref.value is not None:
            continue  # a site-model value: below
        value, unit, origin = _measured(ctx, source, month, name, ref)
        used[name] = origin
        if value is None:
            if name in own:
                notes.append(
                    f"{month.label}: 无实测 {name}，使用站点模型值 / no measured {name}, "
                    "the site model's value is used for this month"
                )
            else:
                notes.append(
                    f"{month.label}: 无实测 {name}，使用指南缺省值 / no measured {name}, "
                    "the guideline default is used for this month"
                )
            continue
        written.pop(name, None)
        typed[name] = Measure(value, unit)
        chain.steps[name] = MEASURED
    for key, own_value in own.items():
        if chain.steps.get(key) == MEASURED:
            continue
        typed.pop(key, None)
        written[key] = own_value
        used.setdefault(key, {"value": own_value})
        if key in PARAMETER_FIELDS:
            chain.steps[key] = SITE_MODEL
    if chain.choice.factor_series is not None:
        written.setdefault("series", chain.choice.factor_series)
    if chain.choice.ch4_n2o_category is not None and source.method == "combustion":
        written.setdefault("ch4_n2o", chain.choice.ch4_n2o_category)
    return used, chain


def _measured(
    ctx: inputs.Context, source: EmissionSource, month: Period, name: str, ref: Any
) -> tuple[float | None, str, dict[str, Any]]:
    if ref.series is not None:
        return inputs.series_amount(ctx, ref.series, month)
    assert ref.point is not None
    value, unit, _, _, origin = inputs.point_amount(ctx, source, ref.point, month)
    if unit.endswith("*h") and value is not None:  # a property: use the mean
        hours = origin.get("valid_hours") or 1
        value, unit = value / hours, ctx.points[ref.point].unit
    return value, unit, origin


def annotate(trace: dict[str, Any], chain: Chain, catalog: FactorCatalog) -> None:
    """Write each parameter's ``step`` into a result's trace, and the ``factor_chain``."""
    chosen = {
        s
        for s, who in (
            (chain.choice.factor_series, chain.choice.factor_series_from),
            (chain.choice.ch4_n2o_category, chain.choice.ch4_n2o_from),
        )
        if s is not None and who != "catalog"
    }
    for item in (*trace.get("inputs", ()), *trace.get("factors", ())):
        origin = item.get("origin")
        if origin in ("measured", "supplier"):
            key = str(item.get("field") or "").rsplit(".", 1)[-1]
            if key in chain.steps:
                item["step"] = chain.steps[key]
            if chain.steps.get(key) == SITE_MODEL:
                item["source"] = f"site model: sources.{chain.source}.{key}"
        elif origin == "default":
            factor = catalog.by_id(str(item.get("factor_id")))
            sector_row = factor is not None and factor.series in chosen
            item["step"] = SECTOR_DEFAULT if sector_row else DEFAULT
    trace["factor_chain"] = chain.as_dict()


def explain_missing(
    error: MissingParameter, source: EmissionSource, chain: Chain, catalog: FactorCatalog
) -> MissingParameter:
    """The chain's last step: a missing parameter, with where it was looked for and the fix.

    Names the parameter, the source, the series looked in (and who chose it), the series
    that do have a default for the fuel, and the three ways to give the value.
    """
    key = str(error.field or "").rsplit(".", 1)[-1]
    if key not in PARAMETER_FIELDS:
        return error
    choice = chain.choice
    looked = choice.factor_series or catalog.default_series(FUEL_KINDS.get(key, "")) or "default"
    where = f"series {looked} ({choice.factor_series_from})"
    having = ""
    kind = FUEL_KINDS.get(key)
    if kind is not None and source.fuel:
        found = sorted(
            {f.series for f in catalog.factors() if f.kind == kind and f.key == source.fuel}
        )
        having = f"; series with a default for {source.fuel}: {', '.join(found) or 'none'}"
    measured = source.parameters.get(key)
    lab = (
        f"no measured value this month (parameters.{key} reads "
        f"{measured.series or measured.point}), "
        if measured is not None and measured.value is None
        else "no measured value, "
    )
    return MissingParameter(
        f"源 {source.id} 缺少参数 {key} / source {source.id} has no {key}: {lab}no site-model "
        f"value, and no default in {where}{having}. 修正 / fix: give `{key}:` on source "
        f"{source.id} in the site model, import the measured value for the month, or set "
        "the site's `sector:` or the source's `factor_series:` to a series that has it",
        field=f"{source.id}.{key}",
    )


# -- validation (``tansuan site validate``) ---------------------------------------------------


def check_model(
    model: SiteModel, catalog: FactorCatalog, *, base: Iterable[tuple[str, Site]] | None = None
) -> tuple[list[Issue], list[Issue]]:
    """The factor-chain problems of a site model: ``(errors, warnings)``.

    (An unknown sector or GWP set is refused by the schema, :mod:`tansuan.site.model`.)
    Errors: a site's ``grid_region`` with no row in the grid table; an unknown factor
    series or CH4/N2O category; a parameter value that is not a number with a known
    unit, or out of range (oxidation not in (0, 1]); a parameter the source's method does
    not read; a fuel parameter with no measured data, no site-model value and no default
    in the chosen series.
    A factor series or CH4/N2O category on a source whose method reads none is an error
    too (the run would refuse it). Warnings: a fuel parameter read only from measured
    data, with no fallback — a month without a lab value will fail; ``ch4_n2o: true`` on
    a source that is not a combustion source (ignored).
    """
    sites = list(base) if base is not None else _site_paths(model)
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for path, site in sites:
        e, w = _check_site(site, path, catalog)
        errors += e
        warnings += w
    return errors, warnings


def _site_paths(model: SiteModel) -> list[tuple[str, Site]]:
    return [
        (f"organisation.companies[{c}].sites[{s}]", site)
        for c, company in enumerate(model.organisation.companies)
        for s, site in enumerate(company.sites)
    ]


def _series_of(catalog: FactorCatalog, table: str) -> frozenset[str]:
    return frozenset(f.series for f in catalog.factors() if f.table == table)


def _check_site(site: Site, path: str, catalog: FactorCatalog) -> tuple[list[Issue], list[Issue]]:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    if site.grid_region is not None:
        regions = {f.region for f in catalog.factors() if f.table == "grid" and f.region}
        if site.grid_region not in regions:
            errors.append(
                Issue(
                    "unknown.grid_region",
                    f"{path}.grid_region",
                    f"电网区域 {site.grid_region!r} 不在电网因子表中 / grid region "
                    f"{site.grid_region!r} is not in the grid table (data/grid.csv); one of "
                    f"{', '.join(sorted(regions))}",
                )
            )
    categories = _series_of(catalog, "combustion_ch4_n2o")
    for index, source in enumerate(site.sources):
        where = f"{path}.sources[{index}]"
        e, w = _check_source(site, source, where, catalog, categories)
        errors += e
        warnings += w
    return errors, warnings


def _check_source(
    site: Site,
    source: EmissionSource,
    where: str,
    catalog: FactorCatalog,
    categories: frozenset[str],
) -> tuple[list[Issue], list[Issue]]:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    own = source.site_values()
    series = own.get("series")
    table = SERIES_TABLES.get(source.method)
    if series is not None:
        if table is None:
            errors.append(
                Issue(
                    "unused.factor_series",
                    f"{where}.factor_series",
                    f"a {source.method} source reads no factor series ({series!r}); only "
                    f"{', '.join(SERIES_TABLES)} sources do",
                )
            )
        elif str(series) not in _series_of(catalog, table):
            known = ", ".join(sorted(_series_of(catalog, table)))
            errors.append(
                Issue(
                    "unknown.factor_series",
                    f"{where}.factor_series",
                    f"no series {series!r} in {table}.csv; known: {known}",
                )
            )
    category = own.get("ch4_n2o")
    if category is not None and str(category) not in categories:
        errors.append(
            Issue(
                "unknown.ch4_n2o_category",
                f"{where}.ch4_n2o_category",
                f"no CH4/N2O category {category!r}; known: {', '.join(sorted(categories))}",
            )
        )
    if category is not None and source.method != "combustion":
        errors.append(
            Issue(
                "unused.ch4_n2o_category",
                f"{where}.ch4_n2o_category",
                f"CH4/N2O categories apply to combustion only, not to a {source.method} source",
            )
        )
    elif source.ch4_n2o and source.method != "combustion":
        warnings.append(
            Issue(
                "unused.ch4_n2o",
                f"{where}.ch4_n2o",
                f"CH4/N2O defaults apply to combustion only, not to a {source.method} source",
            )
        )
    allowed = METHOD_PARAMETERS.get(source.method, frozenset())
    for key, value in own.items():
        if key not in PARAMETER_FIELDS:
            continue
        if key not in allowed:
            errors.append(
                Issue(
                    "unused.parameter",
                    f"{where}.{key}",
                    f"a {source.method} source reads no {key}"
                    + (f"; it reads {', '.join(sorted(allowed))}" if allowed else ""),
                )
            )
            continue
        problem = _value_problem(key, value)
        if problem:
            errors.append(Issue("invalid.parameter", f"{where}.{key}", problem))
    for key in source.measured_refs():
        if key in PARAMETER_FIELDS and key not in allowed:
            errors.append(
                Issue(
                    "unused.parameter",
                    f"{where}.parameters.{key}",
                    f"a {source.method} source reads no {key}",
                )
            )
    if source.method == "combustion" and source.fuel:
        e, w = _check_fuel(site, source, where, catalog)
        errors += e
        warnings += w
    return errors, warnings


def _value_problem(key: str, value: float | str) -> str | None:
    """Why a site-model parameter value cannot be used, or ``None``."""
    try:
        if isinstance(value, int | float):
            number = float(value)
        else:
            number, unit = units.split(str(value), field=key)
            if key in FRACTIONS:
                number = units.convert(number, unit, "dimensionless", field=key)
    except UnitError as exc:
        return exc.message
    if key == "oxidation" and not 0.0 < number <= 1.0:
        return f"oxidation must be a fraction 0 < OF <= 1 (got {value!r}; write 0.98 or '98 %')"
    if key in FRACTIONS and not 0.0 <= number <= 1.0:
        return f"{key} must be a fraction between 0 and 1 (got {value!r})"
    if number < 0:
        return f"{key} must not be negative (got {value!r})"
    return None


def _check_fuel(
    site: Site, source: EmissionSource, where: str, catalog: FactorCatalog
) -> tuple[list[Issue], list[Issue]]:
    """Each fuel parameter the method will need: measured, site value or a default."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    own = source.site_values()
    measured = source.measured_refs()
    choice = choose_series(site, source)
    fuel = str(source.fuel)
    given = set(own) | set(measured)
    needed: list[str] = []
    has_carbon = bool({"carbon_content", "carbon_content_ad"} & given)
    non_co2 = source.ch4_n2o or bool({"ch4_n2o", "ch4_factor", "n2o_factor"} & given)
    if "co2_factor" not in given:
        needed.append("oxidation")
        if not has_carbon:
            needed.append("carbon_content_per_heat")
    if not _activity_is_energy(site, source) and (
        not has_carbon or "co2_factor" in given or non_co2
    ):
        needed.append("ncv")
    for key in needed:
        kind = FUEL_KINDS[key]
        series = choice.factor_series or catalog.default_series(kind)
        rows = [
            f
            for f in catalog.factors()
            if f.kind == kind and f.key == fuel and (series is None or f.series == series)
        ]
        if rows or key in own:
            continue
        having = sorted({f.series for f in catalog.factors() if f.kind == kind and f.key == fuel})
        looked = f"series {series} ({choice.factor_series_from})"
        hint = f"series with a default for {fuel}: {', '.join(having) or 'none'}"
        if key in measured:
            warnings.append(
                Issue(
                    "chain.no_fallback",
                    f"{where}.parameters.{key}",
                    f"{key} of {fuel} is read from measured data only: no site-model value "
                    f"and no default in {looked}; a month without a measured value will fail "
                    f"({hint}; give `{key}:` on the source as a fallback)",
                )
            )
        else:
            errors.append(
                Issue(
                    "chain.no_value",
                    f"{where}.{key}",
                    f"{fuel} has no default {key} in {looked} and the source gives none "
                    f"({hint}); give `{key}:` on the source, a measured series in "
                    f"`parameters: {{{key}: {{series: …}}}}`, or set the site's `sector:` / "
                    "the source's `factor_series:`",
                )
            )
    return errors, warnings


def _activity_is_energy(site: Site, source: EmissionSource) -> bool:
    """Whether the source's activity data are in an energy unit (then no NCV is needed)."""
    points = site.points()
    series = {s.id: s for s in site.series}
    found: list[str] = []
    for ref in source.activity:
        if ref.point is not None and ref.point in points:
            found.append(points[ref.point][1].unit)
        elif ref.series is not None and ref.series in series:
            found.append(series[ref.series].unit)
    return bool(found) and all(_is_energy(u) for u in found)


def _is_energy(unit: str) -> bool:
    try:
        return units.same_dimension(unit, "GJ")
    except UnitError:
        return False
