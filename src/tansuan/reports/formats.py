"""Lay a :class:`Report` out as HTML (Jinja2), PDF (WeasyPrint) or XLSX (openpyxl).

The HTML is the one template the dashboard shows too. The PDF is that HTML printed by
WeasyPrint with Noto Sans CJK; the XLSX holds one sheet per table, values not text.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from tansuan.accounting.periods import PROVISIONAL_REASON
from tansuan.accounting.problems import INCOMPLETE_REASON
from tansuan.errors import ConfigError, InputError
from tansuan.reports.i18n import Lang
from tansuan.reports.model import Report, Table

FORMATS = ("html", "pdf", "xlsx")
FONT_PACKAGE = "fonts-noto-cjk"
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
#: long tables are written as consecutive tables of this many rows (same header): WeasyPrint
#: lays a table out again at every page break, so one long table costs quadratic time
CHUNK_ROWS = 40
#: in the PDF, a table longer than this is printed as a listing, one text line a row:
#: WeasyPrint's cost is per text box (about 1 ms a cell), a row of one box is ~10× cheaper
LISTING_ROWS = 300
#: a table of more columns than this is printed in small type (CSS ``table.wide``), so the
#: monthly tables (12 months, labels and the year) fit the A4 landscape page
WIDE_COLUMNS = 10
#: the end of an HTML document after its receipt block (see receipt.py)
HTML_END = "</body>\n</html>\n"


@cache
def _environment() -> Any:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tansuan.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def css() -> str:
    return resources.files("tansuan.reports").joinpath("templates/report.css").read_text("utf-8")


def ledger_notes(report: Report, fmt: str, tx: Lang) -> list[str]:
    if fmt == "pdf":
        return [
            tx(
                "本报告在签发时记入 tansuan 防篡改账本，账本记录本 PDF 打印内容的 SHA-256。"
                "账本回执（叶子哈希、树大小、包含证明、签名树头）在签发时以 PDF 增量更新的方式"
                "写入文档信息（/TansuanReceipt）；用 `tansuan verify --report 本文件` 离线校验。",
                "This report was logged in tansuan's tamper-evident ledger when issued; the "
                "ledger holds the SHA-256 of this PDF as printed. The ledger receipt (leaf "
                "hash, tree size, inclusion proof, signed tree head) was added to the "
                "document information (/TansuanReceipt) as a PDF incremental update when "
                "issued; check it offline with `tansuan verify --report THIS_FILE`.",
            )
        ]
    if fmt == "html":
        return [
            tx(
                "本报告在签发时记入 tansuan 防篡改账本。账本回执（叶子哈希、树大小、包含证明、"
                "签名树头）附在本页之后；用 `tansuan verify --report 本文件` 离线校验。",
                "This report was logged in tansuan's tamper-evident ledger when issued. The "
                "ledger receipt (leaf hash, tree size, inclusion proof, signed tree head) "
                "follows; check it offline with `tansuan verify --report THIS_FILE`.",
            )
        ]
    return [
        tx(
            f"本报告在签发时记入 tansuan 防篡改账本，账本记录本 {fmt.upper()} 文件"
            "（ZIP 注释为空时）全部字节的 SHA-256。账本回执（叶子哈希、树大小、包含证明、"
            "签名树头）在签发时写入文件的 ZIP 注释；用 `tansuan verify --report 本文件` 离线校验。",
            f"This report was logged in tansuan's tamper-evident ledger when issued; the "
            f"ledger holds the SHA-256 of every byte of this {fmt.upper()} file with an empty "
            "ZIP comment. The ledger receipt (leaf hash, tree size, inclusion proof, signed "
            "tree head) was written into the file's ZIP comment when issued; check it offline "
            "with `tansuan verify --report THIS_FILE`.",
        )
    ]


def html_content(report: Report, fmt: str = "html", *, draft: str = "") -> str:
    """The HTML document up to (not including) the receipt block and closing tags."""
    tx = Lang(report.lang)
    return str(
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            chunk_rows=CHUNK_ROWS,
            listing_rows=LISTING_ROWS if fmt == "pdf" else 0,
            wide_columns=WIDE_COLUMNS,
            listing_note=tx(
                "长表以列表形式打印（各栏以 │ 分隔）；XLSX 版本按列保存同一数据。",
                "A long table is printed as a listing (columns separated by │); the XLSX "
                "holds the same data in columns.",
            ),
            css=css(),
            draft=draft,
            provisional_mark=PROVISIONAL_REASON,
            incomplete_mark=INCOMPLETE_REASON,
            appendix_title=tx("附录：数据溯源", "Appendix: traceability"),
            ledger_title=tx("账本回执", "Ledger receipt"),
            ledger_notes=ledger_notes(report, fmt, tx),
        )
    )


def pdf(report: Report, *, draft: str = "") -> bytes:
    """The report as PDF (A4 landscape), printed from the HTML template."""
    require_cjk_font()
    try:
        from weasyprint import HTML  # deferred: WeasyPrint and pango, only for PDF
    except OSError as error:  # pango missing: WeasyPrint fails loading its libraries
        raise ConfigError(
            f"无法加载 WeasyPrint（缺少 pango），请安装 Debian 软件包 {PANGO_PACKAGES} / "
            f"WeasyPrint cannot load pango: install the Debian packages {PANGO_PACKAGES} "
            f"({error})"
        ) from error
    document = html_content(report, "pdf", draft=draft) + HTML_END
    data: bytes = HTML(string=document).write_pdf()
    return data


@cache
def require_cjk_font() -> None:
    """ConfigError naming the Debian package when no Noto CJK font is installed."""

    family = "Noto Sans CJK SC"
    if shutil.which("fc-list") is not None:
        found = subprocess.run(
            ["fc-list", f":family={family}", "family"], capture_output=True, text=True, check=False
        ).stdout
        if found.strip():
            return
    raise ConfigError(
        f"缺少中文字体 {family}，请安装 Debian 软件包 {FONT_PACKAGE}（apt-get install "
        f"{FONT_PACKAGE}）/ the CJK font {family!r} is not installed: install the Debian "
        f"package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})"
    )


def _sheet_name(table: Table, used: set[str]) -> str:
    base = "".join(c for c in table.id if c not in "[]:*?/\\")[:28] or "table"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:25]}-{n}", n + 1
    used.add(name)
    return name


def xlsx(report: Report) -> bytes:
    """One sheet per table (values, with the title in row 1), the trace sheets last."""
    from openpyxl import Workbook  # deferred: openpyxl, only for XLSX
    from openpyxl.cell import WriteOnlyCell  # deferred: with openpyxl
    from openpyxl.styles import Font  # deferred: with openpyxl

    book = Workbook(write_only=True)
    used: set[str] = set()
    tx = Lang(report.lang)
    about = book.create_sheet("report")
    about.append([report.title])
    about.append([report.subtitle, report.site_id, report.period])
    if report.provisional:
        about.append([PROVISIONAL_REASON])
    if report.incomplete:
        about.append([INCOMPLETE_REASON])
    for section in report.sections:
        for label, value in section.facts:
            about.append([label, value])
    for p in ledger_notes(report, "xlsx", tx):
        about.append([p])
    bold = Font(bold=True)
    for table in report.tables():
        sheet = book.create_sheet(_sheet_name(table, used))
        sheet.append([table.title])
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=column.label)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append(list(row))
        for note in table.notes:
            sheet.append([note])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_format(report: Report, fmt: str, *, draft: str = "") -> bytes:
    if fmt == "html":
        return (html_content(report, draft=draft)).encode("utf-8")
    if fmt == "pdf":
        return pdf(report, draft=draft)
    if fmt == "xlsx":
        return xlsx(report)
    raise InputError(f"未知格式 / unknown format {fmt!r}; use html, pdf or xlsx", field="format")
