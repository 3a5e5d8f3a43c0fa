"""Manual data import: templates, row-by-row errors, units, versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tansuan.errors import InputError
from tansuan.ingest import manual
from tansuan.store import Store
from tansuan.store.manual import current_entries


@pytest.mark.parametrize("kind", sorted(manual.KINDS))
def test_templates_have_the_kind_columns(kind: str, tmp_path: Path) -> None:
    text = manual.template(kind)
    header = text.splitlines()[0].split(",")
    assert header[:7] == list(manual.COMMON)
    assert manual.detect_kind(header) == kind
    manual.write_template(kind, tmp_path / f"{kind}.xlsx")
    rows = manual.read_table(f"{kind}.xlsx", (tmp_path / f"{kind}.xlsx").read_bytes())
    assert [str(x) for x in rows[0]] == header


def test_import_converts_units_and_versions_changes(store: Store) -> None:
    rows = [
        [
            "site",
            "series",
            "period_start",
            "period_end",
            "value",
            "unit",
            "document_ref",
            "product",
        ],
        ["site", "output", "2026-10-01", "2026-10-31", "5200000", "kg", "P-10", "plate"],
        ["site", "output", "2026-11", "", "4800", "", "P-11", "plate"],
        ["site", "output", "2026-11-31", "", "1", "", "P-12", ""],
        ["site", "output", "2026-12-01", "2026-11-01", "1", "", "P-13", ""],
        ["site", "output", "2026-12-01", "", "1", "kWh", "P-14", ""],
        ["site", "missing", "2026-12-01", "", "1", "", "P-15", ""],
    ]
    result = manual.import_table(store, rows)
    assert (result.kind, result.new) == ("production", 2)
    assert [(e.index, e.code) for e in result.errors] == [
        (4, "bad_date"),
        (5, "bad_period"),
        (6, "bad_unit"),
        (7, "unknown_series"),
    ]
    with store.read() as c:
        entries = current_entries(c, "site", "output")
    # 5,200,000 kg = 5200 t; "2026-11" = the whole month.
    assert [(e["period_start"], e["period_end"], e["value"]) for e in entries] == [
        (20261001, 20261031, 5200.0),
        (20261101, 20261130, 4800.0),
    ]
    again = manual.import_table(store, rows[:3])
    assert (again.new, again.duplicates, again.versioned) == (0, 2, 0)
    rows[2][4] = "4900"
    fixed = manual.import_table(store, rows[:3])
    assert (fixed.duplicates, fixed.versioned) == (1, 1)
    with store.read() as c:
        versions = c.exec_driver_sql(
            "SELECT value, version, \"current\" FROM series_entry WHERE document_ref = 'P-11' "
            "ORDER BY version"
        ).all()
    assert [(v[0], v[1], bool(v[2])) for v in versions] == [(4800.0, 1, False), (4900.0, 2, True)]


def test_empty_or_unknown_files_are_clear_errors(store: Store) -> None:
    with pytest.raises(InputError, match="empty"):
        manual.import_table(store, [])
    with pytest.raises(InputError, match="cannot tell the kind"):
        manual.import_table(store, [["site", "series", "period_start", "value"]])


def test_cli_import_and_template(tmp_path: Path, monkeypatch, db_url: str, store: Store) -> None:
    from tansuan.cli import app
    from tansuan.settings import get_settings

    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        target = tmp_path / "fuel.csv"
        made = runner.invoke(app, ["import", "--template", "fuel", "-o", str(target)])
        assert made.exit_code == 0
        text = target.read_text().replace("demo-site", "site").replace("oil-invoices", "coal")
        target.write_text(text + "site,coal,2026-11-01,2026-11-30,x,t,INV-9,,\n")
        done = runner.invoke(app, ["import", str(target)])
        assert done.exit_code == 1  # one bad row
        assert "bad_value" in done.output and "1 新增 new" in done.output
    finally:
        get_settings.cache_clear()


def test_a_zero_needs_a_note(store: Store) -> None:
    """Missing is not zero: a manual 0 without a note is rejected (``zero_without_reason``)
    and nothing is stored for that row; with a note saying why, it is a true 0."""
    header = ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    rows = [
        [*header, "product", "note"],
        ["site", "output", "2026-09", "", "0", "", "P-09", "plate", ""],
        ["site", "output", "2026-08", "", "0", "", "P-08", "plate", "line stopped all month"],
    ]
    done = manual.import_table(store, rows)
    assert [(e.index, e.code) for e in done.errors] == [(2, "zero_without_reason")]
    assert "note" in done.errors[0].detail and "原因" in done.errors[0].detail
    assert done.new == 1


def test_read_table_names_the_row_of_a_stray_carriage_return() -> None:
    text = b"site,series,period_start,value\nsite,coal,2026-10-01,1\nsite,coal,2026-1\r0-02,2\n"
    with pytest.raises(InputError) as caught:
        manual.read_table("f.csv", text)
    assert caught.value.field == "row 3" and "row 3" in caught.value.message
    quoted = b'site,series,period_start,value,note\nsite,coal,2026-10-01,1,"a\rb"\n'
    assert manual.read_table("f.csv", quoted)[1][4] == "a\rb"  # quoted: kept as sent


def test_header_only_file_is_refused_naming_row_2(store: Store) -> None:
    rows = manual.read_table("f.csv", b"site,series,period_start,value,supplier\n")
    with pytest.raises(InputError) as caught:
        manual.import_table(store, rows)
    assert caught.value.field == "row 2"


def test_xlsx_declared_dimension_does_not_pad_rows() -> None:
    """A sheet declaring a huge dimension (here A1:Z50000) with two rows present reads as
    two rows of their own width, not 50,000 rows of 26 cells."""
    import io
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["site", "series"])  # type: ignore[union-attr]
    book.active.append(["s", "coal"])  # type: ignore[union-attr]
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B2" />', b'<dimension ref="A1:Z50000" />')
                assert b"A1:Z50000" in data
            target.writestr(item.filename, data)
    rows = manual.read_table("d.xlsx", out.getvalue())
    assert rows == [["site", "series"], ["s", "coal"]]
