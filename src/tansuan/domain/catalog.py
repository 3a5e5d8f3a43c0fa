"""The factor catalog: default factors from the shipped reference tables, by key, date and region.

Lookup
------
:meth:`FactorCatalog.lookup` finds the one row of a *kind* (``ncv``, ``carbon_per_heat``,
``oxidation``, ``grid_electricity``, ``process_factor``, ``tce_coefficient``, …) for a
*key* (a fuel, material, energy carrier, constant), valid on a *date*, in a *region*,
in a *series*:

* **series** — when not given, the kind's default series from the table's metadata
  (``default_series``). A series is never replaced by another: the ETS grid factor and
  the MEE-NBS statistical factor are different numbers for different purposes.
* **date** — rows are valid from ``valid_from`` to ``valid_to`` inclusive; an empty
  bound is open.
* **carry forward** — for series whose metadata lists them in ``carry_forward`` (the ETS
  grid factor, published with a lag), a date after the newest row takes that newest row
  of the same series and region, and its source says "carried forward": a plant reports
  provisionally with the latest published factor until a newer one is published (a new
  table row then changes the inputs digest, so the affected months get new versions).
* **region** — the row of the region asked for; when the series has no row for that
  region, the ``national`` row of the same series (and the returned factor says which
  region it is). Rows with an empty region (chemistry, CEMS constants) match any region.

No row → :class:`~tansuan.errors.UnknownFactor` naming kind, key, series, date and region.

Precedence
----------
:meth:`FactorCatalog.resolve` applies the precedence rule of every method:
**measured > supplier > default**. The caller passes a measured value (lab analysis,
meter) and/or a supplier value (invoice, supplier certificate) when it has them; the
catalog supplies the default only when neither is given. A parameter with no default
and no value raises :class:`~tansuan.errors.MissingParameter` naming the input field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from tansuan.domain import tables, units
from tansuan.domain.result import Origin, Parameter
from tansuan.errors import MissingParameter, ReferenceDataError, UnknownFactor

NATIONAL = "national"


@dataclass(frozen=True)
class Factor:
    """One row of a reference table: a default value with its provenance."""

    id: str
    kind: str
    key: str
    value: float
    unit: str
    region: str
    series: str
    valid_from: date | None
    valid_to: date | None
    source_document: str
    source_clause: str
    source_edition: str
    confidence: str
    note: str
    table: str

    @property
    def source(self) -> str:
        """Document, table/clause and edition in one line."""
        return f"{self.source_document}, {self.source_clause} ({self.source_edition})"

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    def parameter(self, name: str, unit: str | None = None) -> Parameter:
        """This factor as a traced :class:`Parameter`, converted to ``unit`` if given."""
        value = self.value
        if unit is not None and unit != self.unit:
            value = self.value * units.factor(self.unit, unit)
        return Parameter(
            name=name,
            value=value,
            unit=unit or self.unit,
            origin=Origin.DEFAULT,
            source=self.source,
            factor_id=self.id,
            confidence=self.confidence,
        )


def _date(text: str, *, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReferenceDataError(f"{where}: {text!r} is not an ISO date") from None


def _factor_from_row(table: str, row: Mapping[str, str], line: int) -> Factor:
    where = f"{table}.csv line {line}"
    missing = [c for c in ("id", "kind", "key", "value", "unit", "series") if not row.get(c)]
    if missing:
        raise ReferenceDataError(f"{where}: no {', '.join(missing)}")
    try:
        units.unit(row["unit"])
    except Exception as exc:
        raise ReferenceDataError(f"{where}: unit {row['unit']!r} is not known") from exc
    return Factor(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        value=tables.parse_number(row["value"], where=where),
        unit=row["unit"],
        region=row.get("region", ""),
        series=row["series"],
        valid_from=_date(row.get("valid_from", ""), where=where),
        valid_to=_date(row.get("valid_to", ""), where=where),
        source_document=row["source_document"],
        source_clause=row["source_clause"],
        source_edition=row["source_edition"],
        confidence=row["confidence"],
        note=row.get("note", ""),
        table=table,
    )


@dataclass(frozen=True)
class Component:
    """One GWP-bearing component of a refrigerant, with its mass fraction."""

    gas: str
    mass_fraction: float
    source: str
    confidence: str


class FactorCatalog:
    """Default factors by kind, key, date, region and series (see the module docstring).

    Build the shipped catalog with :func:`shipped_catalog`; tests may build one from
    their own :class:`Factor` rows.

    >>> from datetime import date
    >>> catalog = shipped_catalog()
    >>> catalog.lookup("grid_electricity", "electricity", on=date(2022, 6, 1)).id
    'grid.ets.national.2021'
    >>> ncv = catalog.resolve("ncv_gj_per_t", "ncv", "diesel", unit="GJ/t", field="s[0].ncv")
    >>> (ncv.value, ncv.origin.value, ncv.factor_id)
    (42.652, 'default', 'fuel.mee_2013.diesel.ncv')
    >>> catalog.resolve("ncv_gj_per_t", "ncv", "diesel", unit="GJ/t", measured=43.0).origin.value
    'measured'
    """

    def __init__(
        self,
        factors: Iterable[Factor],
        *,
        default_series: Mapping[str, str] | None = None,
        refrigerants: Mapping[str, tuple[Component, ...]] | None = None,
        carry_forward: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._by_kind_key: dict[tuple[str, str], list[Factor]] = {}
        self._by_id: dict[str, Factor] = {}
        for factor in factors:
            if factor.id in self._by_id:
                raise ReferenceDataError(f"duplicate factor id {factor.id}")
            self._by_id[factor.id] = factor
            self._by_kind_key.setdefault((factor.kind, factor.key), []).append(factor)
        self._default_series = MappingProxyType(dict(default_series or {}))
        self._refrigerants = MappingProxyType(dict(refrigerants or {}))
        self._carry_forward = frozenset(carry_forward)

    # -- introspection -------------------------------------------------------------
    def factors(self) -> tuple[Factor, ...]:
        """Every row of the catalog."""
        return tuple(f for group in self._by_kind_key.values() for f in group)

    def by_id(self, factor_id: str) -> Factor | None:
        """The row with id ``factor_id``, or ``None``."""
        return self._by_id.get(factor_id)

    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self._by_kind_key)

    def keys(self, kind: str) -> frozenset[str]:
        """Every key that has at least one row of ``kind``."""
        return frozenset(key for k, key in self._by_kind_key if k == kind)

    def default_series(self, kind: str) -> str | None:
        return self._default_series.get(kind)

    # -- lookup ----------------------------------------------------------------------
    def lookup(
        self,
        kind: str,
        key: str,
        *,
        on: date | None = None,
        region: str | None = None,
        series: str | None = None,
    ) -> Factor:
        """The one row of ``kind`` for ``key`` valid ``on`` in ``region`` and ``series``.

        Raises
        ------
        UnknownFactor
            no row matches; the message names kind, key, series, date and region.
        ReferenceDataError
            more than one row matches (overlapping validity in the shipped data).
        """
        chosen_series = series or self._default_series.get(kind)
        where = (
            f"{kind} for key {key!r} (series {chosen_series or 'any'}, "
            f"date {on.isoformat() if on else 'any'}, region {region or NATIONAL})"
        )
        rows = self._by_kind_key.get((kind, key))
        if not rows:
            known = ", ".join(sorted(self.keys(kind))) or "none"
            raise UnknownFactor(f"no {where}; known keys of {kind}: {known}")
        if chosen_series is not None:
            rows = [r for r in rows if r.series == chosen_series]
        if on is not None:
            valid = [r for r in rows if r.valid_on(on)]
            if not valid and (kind, chosen_series or "") in self._carry_forward:
                valid = _carried_forward(rows, on)
            rows = valid
        wanted = region or NATIONAL
        regional = [r for r in rows if r.region == wanted]
        if not regional:
            regional = [r for r in rows if r.region in (NATIONAL, "")]
        if not regional:
            raise UnknownFactor(f"no {where}")
        if len(regional) > 1 and on is None:
            ids = ", ".join(r.id for r in regional)
            raise UnknownFactor(f"{where}: rows {ids} are valid at different dates; give a date")
        if len(regional) > 1:
            ids = ", ".join(r.id for r in regional)
            raise ReferenceDataError(f"{where} is ambiguous: rows {ids} overlap")
        return regional[0]

    def resolve(
        self,
        name: str,
        kind: str,
        key: str,
        *,
        unit: str,
        measured: float | None = None,
        supplier: float | None = None,
        on: date | None = None,
        region: str | None = None,
        series: str | None = None,
        field: str | None = None,
    ) -> Parameter:
        """A parameter by precedence: measured > supplier > the catalog default.

        ``measured`` and ``supplier`` are in ``unit``. The returned parameter's
        ``origin`` says which one was used; a default carries its factor id and source.

        Raises
        ------
        MissingParameter
            neither value is given and the catalog has no default; names ``field``.
        """
        label = field or name
        if measured is not None:
            return Parameter(
                name, float(measured), unit, Origin.MEASURED, f"measured: {label}", field=field
            )
        if supplier is not None:
            return Parameter(
                name, float(supplier), unit, Origin.SUPPLIER, f"supplier: {label}", field=field
            )
        try:
            factor = self.lookup(kind, key, on=on, region=region, series=series)
        except UnknownFactor as exc:
            raise MissingParameter(
                f"{name} is required: no measured or supplier value was given and the "
                f"reference tables have no default ({exc})",
                field=field,
            ) from None
        return factor.parameter(name, unit)

    def constant(self, kind: str, key: str, *, unit: str | None = None) -> Parameter:
        """A date- and region-independent constant (``ratio``/``co2_per_c``, CEMS constants)."""
        return self.lookup(kind, key).parameter(f"{key}", unit)

    # -- refrigerants ----------------------------------------------------------------
    def refrigerant(self, name: str, *, field: str | None = None) -> tuple[Component, ...]:
        """The components of a refrigerant (``R-410A`` → HFC-32 0.5, HFC-125 0.5)."""
        squashed = name.replace("-", "").replace(" ", "").upper()
        for known, components in self._refrigerants.items():
            if known.replace("-", "").upper() == squashed:
                return components
        known_names = ", ".join(sorted(self._refrigerants))
        raise UnknownFactor(f"unknown refrigerant {name!r}; known: {known_names}", field=field)


def _refrigerants_from_table() -> dict[str, tuple[Component, ...]]:
    out: dict[str, list[Component]] = {}
    for line, row in enumerate(tables.rows("refrigerants"), start=2):
        out.setdefault(row["refrigerant"], []).append(
            Component(
                gas=row["component"],
                mass_fraction=tables.parse_number(
                    row["mass_fraction"], where=f"refrigerants.csv line {line}"
                ),
                source=f"{row['source_document']}, {row['source_clause']} "
                f"({row['source_edition']})",
                confidence=row["confidence"],
            )
        )
    for name, components in out.items():
        total = sum(c.mass_fraction for c in components)
        if abs(total - 1.0) > 1e-9:
            raise ReferenceDataError(f"refrigerants.csv: {name} fractions sum to {total}, not 1")
    return {name: tuple(components) for name, components in out.items()}


def _carried_forward(rows: list[Factor], on: date) -> list[Factor]:
    """The newest row of each region that ended before ``on``, marked as carried forward."""
    newest: dict[str, Factor] = {}
    for row in rows:
        if row.valid_to is not None and row.valid_to < on:
            held = newest.get(row.region)
            if held is None or (held.valid_to is not None and held.valid_to < row.valid_to):
                newest[row.region] = row
    return [
        replace(
            row,
            source_clause=f"{row.source_clause}; carried forward to {on.isoformat()}: no newer "
            "value published / 沿用最新发布值",
        )
        for row in newest.values()
    ]


@lru_cache(maxsize=1)
def shipped_catalog() -> FactorCatalog:
    """The catalog of every shipped factor table (read once, then cached)."""
    factors: list[Factor] = []
    default_series: dict[str, str] = {}
    carry_forward: list[tuple[str, str]] = []
    for table in tables.FACTOR_TABLES:
        meta = tables.metadata(table)
        for kind, series in (meta.get("default_series") or {}).items():
            default_series[str(kind)] = str(series)
        for kind, series in (meta.get("carry_forward") or {}).items():
            carry_forward.append((str(kind), str(series)))
        for line, row in enumerate(tables.rows(table), start=2):
            factors.append(_factor_from_row(table, row, line))
    return FactorCatalog(
        factors,
        default_series=default_series,
        refrigerants=_refrigerants_from_table(),
        carry_forward=carry_forward,
    )
