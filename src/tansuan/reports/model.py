"""The one shape every report takes before it is rendered: sections of tables.

A builder (annual, inventory, energy) reads accounting results and fills a
:class:`Report`; the renderers (HTML, PDF, XLSX) only lay it out. Numbers stay numbers
here (tonnes as floats converted once from integer grams), so the XLSX holds values and
the tests can compare them with the accounting results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    """A table column: its label and how numbers in it are shown (a format spec, ``.3f``)."""

    label: str
    fmt: str = ""
    width: str = ""  #: CSS width for HTML/PDF, e.g. "12%"
    nowrap: bool = False  #: short labels (取值方式) kept on one line

    def show(self, value: Cell) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return str(value)
        if self.fmt and isinstance(value, int | float):
            return format(value, self.fmt)
        return str(value)


@dataclass
class Table:
    """One table: an id (also its XLSX sheet name), a title, columns, rows and notes."""

    id: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: row indexes shown as totals (bold)
    total_rows: set[int] = field(default_factory=set)

    #: small print (long tables: evidence, trace)
    compact: bool = False
    #: row index → number format overriding the columns' (e.g. a row of factors)
    row_formats: dict[int, str] = field(default_factory=dict)

    def add(self, row: list[Cell], *, total: bool = False, fmt: str = "") -> None:
        if len(row) != len(self.columns):
            raise ValueError(f"table {self.id}: {len(row)} cells, {len(self.columns)} columns")
        if total:
            self.total_rows.add(len(self.rows))
        if fmt:
            self.row_formats[len(self.rows)] = fmt
        self.rows.append(row)

    def shown(self) -> list[list[str]]:
        """Every row as display text."""
        out = []
        for index, row in enumerate(self.rows):
            fmt = self.row_formats.get(index)
            columns = self.columns if fmt is None else [Column(c.label, fmt) for c in self.columns]
            out.append([c.show(v) for c, v in zip(columns, row, strict=True)])
        return out


@dataclass
class Chart:
    """A rendered chart: PNG bytes and its caption."""

    caption: str
    png: bytes


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  #: label → value pairs
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Report:
    """A report ready to render.

    ``totals`` holds the headline figures in integer grams (or other exact units) keyed
    by name, for tests and for the ledger payload; ``trace`` is the appendix table.
    """

    kind: str  #: annual | inventory | energy
    lang: str
    title: str
    subtitle: str
    site_id: str
    period: str  #: "2025" or "2025-03"
    sections: list[Section] = field(default_factory=list)
    trace: list[Table] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    generated_at: str = ""
    #: The period is not complete (it ends after today in the site's zone): the report's
    #: first page says so and its ledger leaf records ``provisional: true``.
    provisional: bool = False
    #: A source-month of the period is failed or missing: the first page says "incomplete —
    #: not for submission" and the ledger leaf records ``incomplete: true``
    #: (:mod:`tansuan.reports.completeness`).
    incomplete: bool = False

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables] + list(self.trace)

    def table(self, table_id: str) -> Table:
        for table in self.tables():
            if table.id == table_id:
                return table
        raise KeyError(table_id)
