"""``tansuan report annual|inventory|energy``: issue a report file with its ledger receipt."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import console, err_console, fail, open_store

report_app = typer.Typer(
    rich_markup_mode=None,
    help="Reports: ETS annual report, GHG inventory, energy report / "
    "报告：年度排放报告、温室气体清单、能源报告",
    no_args_is_help=True,
)

SITE = typer.Option(..., "--site", help="site id / 站点")
YEAR = typer.Option(..., "--year", help="reporting year / 报告年度")
FORMAT = typer.Option(
    None,
    "--format",
    help="pdf | html | xlsx (default: from the --out extension) / 格式（默认取 --out 的扩展名）",
)
OUT = typer.Option(..., "--out", help="file to write / 输出文件")
LANG = typer.Option("zh", "--lang", help="zh | en")
MODEL = typer.Option(
    None, "--model", help="site-model YAML (default: the model last loaded into the store)"
)


def _run(
    kind: str,
    site: str,
    year: int,
    month: int | None,
    fmt: str | None,
    out: Path,
    lang: str,
    model_file: Path | None,
    layout: str | None = None,
) -> None:
    from tansuan.cli.account import _model
    from tansuan.cli.ledger_support import ledger
    from tansuan.errors import TansuanError
    from tansuan.reports.api import issue_report

    try:
        fmt = format_of(out, fmt)
        store = open_store()
        try:
            model = _model(store, model_file)
            with console.status("生成报告 / building the report …") as status:
                issued = issue_report(
                    store, model, ledger(), kind, site, year, month, fmt, lang,
                    layout=layout, progress=lambda text: status.update(text),
                )  # fmt: skip
                written = issued.write(out)
        finally:
            store.close()
    except TansuanError as error:
        fail(error, code=1)
    except OSError as error:
        err_console.print(f"[bold red]错误 / error:[/] 无法写入 / cannot write {out}: {error}")
        raise typer.Exit(1) from error
    leaf = issued.receipt["leaf_index"]
    for path in written:
        console.print(f"[green]✓[/] {path}")
    console.print(
        f"账本叶子 / ledger leaf {leaf}, 树大小 / tree size {issued.receipt['tree_size']}; "
        f"校验 / verify: tansuan verify --report {out}"
    )


def format_of(out: Path, fmt: str | None) -> str:
    """The format of ``out``: its extension, which ``--format`` may only confirm.

    Raises InputError (before anything is rendered or logged) for a file name without a
    report format's extension and no ``--format``, and for a ``--format`` the extension
    contradicts (``--format pdf --out z.xlsx``).
    """
    from tansuan.errors import InputError
    from tansuan.reports.formats import FORMATS

    suffix = out.suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if fmt is None:
        if suffix in FORMATS:
            return suffix
        raise InputError(
            f"无法从文件名 {out.name} 判断格式：请用 .pdf、.html 或 .xlsx 结尾，或给出 --format / "
            f"cannot tell the format from the file name {out.name}: end it in .pdf, .html "
            "or .xlsx, or give --format",
            field="format",
        )
    if suffix and suffix != fmt:
        raise InputError(
            f"--format {fmt} 与文件名 {out.name} 的扩展名 .{suffix} 不符，请改用 .{fmt} "
            f"结尾的文件名或去掉 --format / --format {fmt} contradicts the extension "
            f".{suffix} of {out.name}; name the file .{fmt}, or leave --format out",
            field="format",
        )
    return fmt


@report_app.command("annual")
def annual(
    site: str = SITE,
    year: int = YEAR,
    month: int | None = typer.Option(None, "--month", help="one month only / 仅某月"),
    fmt: str | None = FORMAT,
    out: Path = OUT,
    lang: str = LANG,
    layout: str | None = typer.Option(
        None,
        "--layout",
        help="power (发电设施指南) | generic (行业通用指南); default: the site's sector "
        "(sector: power → power, any other → generic) / 默认按站点行业",
    ),
    model_file: Path | None = MODEL,
) -> None:
    """National ETS annual emission report / 全国碳市场年度排放报告."""
    _run("annual", site, year, month, fmt, out, lang, model_file, layout)


@report_app.command("inventory")
def inventory(
    site: str = SITE,
    year: int = YEAR,
    month: int | None = typer.Option(None, "--month", help="one month only / 仅某月"),
    fmt: str | None = FORMAT,
    out: Path = OUT,
    lang: str = LANG,
    model_file: Path | None = MODEL,
) -> None:
    """GHG Protocol / ISO 14064-1 inventory / 温室气体清单."""
    _run("inventory", site, year, month, fmt, out, lang, model_file)


@report_app.command("energy")
def energy(
    site: str = SITE,
    year: int = YEAR,
    month: int | None = typer.Option(
        None, "--month", help="the month, with the year to date / 报告月份（含年累计）"
    ),
    fmt: str | None = FORMAT,
    out: Path = OUT,
    lang: str = LANG,
    model_file: Path | None = MODEL,
) -> None:
    """Energy report (GB/T 2589) with the dual-control budget / 能源消耗报告."""
    _run("energy", site, year, month, fmt, out, lang, model_file)
