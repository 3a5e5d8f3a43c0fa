"""``tansuan ledger …`` and ``tansuan verify``: the tamper-evident log."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import app, console, err_console, fail
from tansuan.errors import TansuanError

ledger_app = typer.Typer(
    rich_markup_mode=None,
    help="Tamper-evident ledger: keys, tree heads, export / 防篡改账本：密钥、树头、导出",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

BATCH_ROWS_HELP = "The store's batch_rows function as module:function / 存储层 batch_rows 函数"


def _batch_ids(batch_rows: str, batch_ids: str | None) -> str | None:
    """With the store's own ``batch_rows``, list the store's reading batches by default."""
    if batch_ids is None and batch_rows == "tansuan.store:batch_rows":
        return "tansuan.store:reading_batch_ids"
    return batch_ids


BATCH_IDS_HELP = (
    "The store's function listing every batch id, as module:function; lets verify name "
    "batches no leaf logs / 列出全部批次号的函数（可选）"
)


@ledger_app.command("pubkey")
def ledger_pubkey() -> None:
    """Print the ledger's public key (PEM); creates the key pair on first use / 显示账本公钥."""
    from tansuan.cli.ledger_support import pubkey_pem

    try:
        console.out(pubkey_pem(), end="", highlight=False)
    except TansuanError as error:
        fail(error)


@ledger_app.command("sth")
def ledger_sth() -> None:
    """Sign and keep a tree head now; print it as JSON / 立即签发树头."""
    from tansuan.cli.ledger_support import issue_sth

    try:
        console.print_json(data=issue_sth())
    except TansuanError as error:
        fail(error)


@ledger_app.command("witness")
def ledger_witness(
    log_public_key: Path = typer.Option(
        ..., "--log-public-key", help="the witnessed log's public key (PEM) / 被见证账本的公钥"
    ),
    directory: Path = typer.Option(
        ..., "--dir", help="the witness's own folder: its key and heads / 见证方目录"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on / 监听地址"),
    port: int = typer.Option(8213, "--port", help="port to listen on / 监听端口"),
) -> None:
    """Run a witness that countersigns a log's tree heads / 运行树头见证服务."""
    from tansuan.ledger.signing import load_or_create_key, load_public_key
    from tansuan.ledger.witness import Witness, make_server

    try:
        witness = Witness(
            load_public_key(log_public_key.read_bytes()),
            load_or_create_key(directory),
            directory,
        )
        server = make_server(witness, host, port)
    except (OSError, TansuanError) as error:
        fail(error if isinstance(error, TansuanError) else TansuanError(str(error)))
    console.print(
        f"见证服务 / witness on http://{host}:{server.server_address[1]} — Ctrl-C 停止 / stop"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("已停止 / stopped")
    finally:
        server.server_close()


@ledger_app.command("export")
def ledger_export(
    directory: Path = typer.Argument(..., help="new folder to write / 导出目录（须为空）"),
    batch_rows: str = typer.Option("tansuan.store:batch_rows", help=BATCH_ROWS_HELP),
    batch_ids: str | None = typer.Option(None, help=BATCH_IDS_HELP),
) -> None:
    """Export data, leaves, tree heads and public key for offline verify / 导出账本."""
    from tansuan.cli.ledger_support import export

    try:
        manifest = export(directory, batch_rows, _batch_ids(batch_rows, batch_ids), err_console)
    except TansuanError as error:
        fail(error)
    console.print(
        f"[green]✓[/] {directory}: {manifest['leaves']} 叶子 leaves, "
        f"{manifest['readings']} 读数 readings, {manifest['sths']} 树头 STHs"
    )


@app.command()
def verify(
    export_dir: Path | None = typer.Option(
        None, "--export", help="verify an export folder instead of the live database / 校验导出目录"
    ),
    report: Path | None = typer.Option(
        None, "--report", help="check one report receipt (JSON) / 校验报告回执"
    ),
    document: Path | None = typer.Option(
        None, "--document", help="with --report: the report file the receipt covers / 报告文件"
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="the log's public key (PEM) to trust / 受信任的账本公钥"
    ),
    batch_rows: str = typer.Option("tansuan.store:batch_rows", help=BATCH_ROWS_HELP),
    batch_ids: str | None = typer.Option(None, help=BATCH_IDS_HELP),
    anchors: Path | None = typer.Option(
        None,
        "--anchors",
        help="anchor file of tree heads (default <data_dir>/ledger/anchors.jsonl) / 锚定树头文件",
    ),
    head: Path | None = typer.Option(
        None,
        "--head",
        help="your own copy of a tree head (STH JSON or a receipt) / 自持树头（或回执）",
    ),
    witness: str | None = typer.Option(
        None, "--witness", help="check against a witness's latest head (URL) / 对照见证方树头"
    ),
    pack: Path | None = typer.Option(
        None, "--pack", help="check an offline verification pack (zip) / 校验离线核查包"
    ),
    result: str | None = typer.Option(
        None,
        "--result",
        help="recompute one result (set id or site/source/month) from its ledgered inputs "
        "/ 由账本输入复现一个核算结果",
    ),
    results: bool = typer.Option(
        False, "--results", help="also recompute every current result / 同时复现全部当前核算结果"
    ),
    sample: int | None = typer.Option(
        None,
        "--sample",
        help="recompute the rollups of N random day × point cells, not all / 抽样重算汇总",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="with --sample: the random seed, to repeat a draw / 抽样随机种子"
    ),
) -> None:
    """Recompute the ledger and name every change; exit 0 only if all holds / 校验账本."""
    if pack is not None:
        from tansuan.cli.pack import verify_pack

        raise typer.Exit(0 if verify_pack(pack) else 1)
    from tansuan.cli.ledger_support import run_verify
    from tansuan.cli.verify_results import run_result, run_results

    if result is not None:  # one result, from its ledgered inputs
        try:
            reproduced = run_result(console, result, public_key)
        except TansuanError as error:
            fail(error)
        raise typer.Exit(0 if reproduced else 1)
    try:
        ok = run_verify(
            console,
            err_console,
            export_dir=export_dir,
            report=report,
            document=document,
            public_key=public_key,
            batch_rows=batch_rows,
            batch_ids=_batch_ids(batch_rows, batch_ids),
            anchors=anchors,
            head=head,
            witness=witness,
            sample=sample,
            seed=seed,
        )
        if results:
            ok = run_results(console, public_key) and ok
    except TansuanError as error:
        fail(error)
    raise typer.Exit(0 if ok else 1)
