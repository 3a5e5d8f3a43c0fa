"""Reading the shipped reference tables (``tansuan/data/*.csv`` + ``*.yaml``).

Every table is a CSV file with a metadata file of the same stem. Loading checks
provenance and refuses a malformed table with :class:`ReferenceDataError`:

* the metadata file exists and names ``publisher``, ``document``, ``edition``,
  ``licence`` and ``retrieved``;
* every row carries ``source_document``, ``source_clause``, ``source_edition``
  and a ``confidence`` tag ([V] verified, [S] secondary, [M] recollection);
* numbers parse (an exact fraction such as ``44/12`` is allowed, so the
  guidelines' own ratios can be written as they print them).

The files are package data read once (cached); nothing here runs at method call time.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from fractions import Fraction
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from tansuan.errors import ReferenceDataError

METADATA_KEYS = ("publisher", "document", "edition", "licence", "retrieved")
SOURCE_COLUMNS = ("source_document", "source_clause", "source_edition", "confidence")
CONFIDENCE_TAGS = frozenset({"[V]", "[S]", "[M]"})

#: The factor tables that share the generic schema (see ``FACTOR_COLUMNS``).
FACTOR_TABLES = (
    "fuels",
    "grid",
    "heat",
    "process",
    "combustion_ch4_n2o",
    "energy_coefficients",
    "chemistry",
    "cems",
)
#: Every shipped table, generic or not.
ALL_TABLES = (
    *FACTOR_TABLES,
    "gwp",
    "refrigerants",
    "analytics_criteria",
    "ets_power",
    "sectors",
)

FACTOR_COLUMNS = (
    "id",
    "kind",
    "key",
    "value",
    "unit",
    "region",
    "series",
    "valid_from",
    "valid_to",
    *SOURCE_COLUMNS[:3],
    "confidence",
    "note",
)


def parse_number(text: str, *, where: str) -> float:
    """Parse ``"0.5810"`` or an exact fraction ``"44/12"`` into a float."""
    try:
        return float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise ReferenceDataError(f"{where}: {text!r} is not a number") from None


def _data_text(name: str) -> str:
    resource = files("tansuan.data").joinpath(name)
    if not resource.is_file():
        raise ReferenceDataError(f"reference table file {name} is missing")
    return resource.read_text(encoding="utf-8")


def csv_text(table: str) -> str:
    """The installed CSV text of ``table`` as shipped (read each call, not cached): what
    the ledger logs as a table release and ``tansuan verify`` compares with it."""
    return _data_text(f"{table}.csv")


def metadata_text(table: str) -> str:
    """The installed metadata (YAML) text of ``table``, read each call."""
    return _data_text(f"{table}.yaml")


@cache
def metadata(table: str) -> Mapping[str, Any]:
    """The metadata (YAML) of ``table``, checked for the provenance keys."""
    name = f"{table}.yaml"
    return check_metadata(name, yaml.safe_load(_data_text(name)))


def check_metadata(name: str, loaded: object) -> Mapping[str, Any]:
    """Refuse metadata that is not a mapping or lacks a provenance key."""
    if not isinstance(loaded, dict):
        raise ReferenceDataError(f"{name}: metadata must be a mapping")
    missing = [key for key in METADATA_KEYS if not str(loaded.get(key) or "").strip()]
    if missing:
        raise ReferenceDataError(f"{name}: metadata lacks {', '.join(missing)}")
    return loaded


@cache
def rows(table: str) -> tuple[Mapping[str, str], ...]:
    """The rows of ``table`` as dicts of text, each checked for its source and tag."""
    metadata(table)
    name = f"{table}.csv"
    return check_rows(name, _data_text(name))


def check_rows(name: str, text: str) -> tuple[Mapping[str, str], ...]:
    """Parse CSV ``text``; refuse a row without its source columns or confidence tag."""
    reader = csv.DictReader(text.splitlines())
    header = tuple(reader.fieldnames or ())
    if missing := [column for column in SOURCE_COLUMNS if column not in header]:
        raise ReferenceDataError(f"{name}: no column {', '.join(missing)}")
    out: list[Mapping[str, str]] = []
    for line_no, row in enumerate(reader, start=2):
        cells = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if empty := [column for column in SOURCE_COLUMNS if not cells.get(column)]:
            raise ReferenceDataError(f"{name} line {line_no}: no {', '.join(empty)}")
        if cells["confidence"] not in CONFIDENCE_TAGS:
            raise ReferenceDataError(
                f"{name} line {line_no}: confidence {cells['confidence']!r} is not one of "
                f"{sorted(CONFIDENCE_TAGS)}"
            )
        out.append(cells)
    return tuple(out)
