"""``tansuan pack`` and ``tansuan verify --pack``: the offline verification pack."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import app, console, err_console, fail
from tansuan.errors import TansuanError


@app.command("pack")
def pack(
    site: str = typer.Option(..., "--site", help="site id / 站点编号"),
    year: int = typer.Option(..., "--year", help="calendar year, in the site's time zone / 年度"),
    out: Path = typer.Option(..., "--out", help="the pack to write (.zip, new file) / 输出文件"),
    batch_rows: str | None = typer.Option(
        None,
        help="The store's batch_rows function as module:function (default: read the store's "
        "reading tables directly) / 存储层 batch_rows 函数",
    ),
) -> None:
    """Write a site-year's offline verification pack / 生成离线核查包.

    Readings, manual data, results with traces, evidence files, the leaves, tree heads
    and proofs, the verifiers' sign-offs and check.py, which checks it all without
    tansuan's database (python check.py pack.zip)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tansuan import clock
    from tansuan.cli.ledger_support import engine, ledger, resolve_function
    from tansuan.ledger.pack import write_pack
    from tansuan.settings import get_settings
    from tansuan.store.evidence import FileBlobStore

    blobs = FileBlobStore.for_data_dir(get_settings().data_dir)

    def blob(sha256: str) -> bytes | None:
        return blobs.get(sha256) if blobs.exists(sha256) else None

    try:
        columns = (TextColumn("打包 / packing"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task("pack", total=None)
            manifest = write_pack(
                engine(),
                ledger(),
                site=site,
                year=year,
                out=out,
                now=clock.now(),
                batch_rows=None if batch_rows is None else resolve_function(batch_rows),
                evidence_blob=blob,
                progress=lambda n: progress.advance(task, n),
                total=lambda n: progress.update(task, total=n),
            )
    except TansuanError as error:
        fail(error)
    counts = manifest["counts"]
    console.print(
        f"[green]✓[/] {out}: {counts.get('readings', 0)} 读数 readings, "
        f"{counts.get('manual_entries', 0)} 手工数据 manual entries, "
        f"{counts.get('result_sets', 0)} 核算结果 result versions, "
        f"{counts.get('evidence_files', 0)} 存证 evidence files, "
        f"{counts.get('signoff', 0)} 签核 sign-offs; 树头 tree head size {manifest['tree_size']}"
    )
    console.print(
        f"清单 manifest SHA-256: {manifest['manifest_sha256']} — "
        "请随包告知核查方 / give it to the verifier with the pack",
        highlight=False,
    )


def verify_pack(path: Path) -> bool:
    """``tansuan verify --pack``: the pack's own checks (the module check.py is a copy
    of), printed; True when the pack holds."""
    from tansuan.ledger.pack_check import check_pack

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file / 文件不存在", param_hint="--pack")
    with err_console.status("校验核查包 / checking the pack …") as status:
        report = check_pack(str(path), progress=lambda step: status.update(f"{step} …"))
    for line in report.lines():
        style = "green" if line.startswith("✓") else "bold red" if line.startswith("✗") else ""
        console.print(f"[{style}]{line}[/]" if style else line, highlight=False, soft_wrap=True)
    return report.ok
