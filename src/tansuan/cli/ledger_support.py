"""What the ``tansuan ledger …`` and ``tansuan verify`` commands call.

Kept apart from the command modules so they stay thin. Wires Settings,
the database engine, the key pair and the store's ``batch_rows`` (resolved from a
``module:function`` name: dependency injection for a store this package does not import).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from tansuan.errors import ConfigError, StoreError, TansuanError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from sqlalchemy import Connection, Engine

    from tansuan.ledger.log import Ledger
    from tansuan.ledger.sources import BatchIds, BatchRows, LiveSource, Source
    from tansuan.ledger.verify import Outcome


def engine() -> Engine:
    """The store's engine from Settings, its schema migrated to the newest revision (the
    ledger's tables are the store's: made by its migrations, never beside them).

    No connection pool: a CLI command leaves no connection open behind it.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from tansuan.settings import get_settings
    from tansuan.store.engine import upgrade

    settings = get_settings()
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        db = create_engine(url, poolclass=NullPool)
        upgrade(db)
    except TansuanError:
        raise
    except Exception as error:  # driver errors vary: translate at the edge
        raise StoreError(f"数据库不可用 / cannot open the database {url}: {error}") from error
    return db


def ledger() -> Ledger:
    from tansuan.ledger.log import Ledger
    from tansuan.settings import get_settings

    settings = get_settings()
    return Ledger.from_data_dir(settings.data_dir, witness_url=settings.ledger_witness_url)


def resolve_function(spec: str) -> Any:
    """``"package.module:function"`` → the function."""
    module_name, _, attribute = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(
            f"找不到函数 / cannot load {spec!r} ({error}); "
            "pass --batch-rows / --batch-ids module:function"
        ) from error
    if not callable(function):
        raise ConfigError(f"{spec!r} is not callable")
    return function


def pubkey_pem() -> str:
    from tansuan.ledger.signing import public_key_pem

    return public_key_pem(ledger().public_key).decode("ascii")


def issue_sth() -> dict[str, Any]:
    return ledger().issue_sth_now(engine()).to_json()


@contextmanager
def _progress(err_console: Console, total: int, what: str) -> Iterator[Callable[[int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        yield lambda n: progress.advance(task, n)


def _live_source(
    connection: Connection, batch_rows: str, batch_ids: str | None, key: Ed25519PublicKey
) -> LiveSource:
    from tansuan.ledger.sources import LiveSource

    rows: BatchRows = resolve_function(batch_rows)
    ids: BatchIds | None = None if batch_ids is None else resolve_function(batch_ids)
    return LiveSource(connection, rows, key, batch_ids=ids)


def export(
    directory: Path, batch_rows: str, batch_ids: str | None, err_console: Console
) -> dict[str, Any]:
    from tansuan.ledger.sources import write_export

    with engine().connect() as connection:
        source = _live_source(connection, batch_rows, batch_ids, ledger().public_key)
        with _progress(err_console, source.leaf_count(), "导出 / exporting") as advance:
            return write_export(source, directory, progress=advance)


def _trusted_key(public_key: Path | None) -> Any:
    from tansuan.ledger.signing import load_public_key

    if public_key is not None:
        return load_public_key(public_key.read_bytes())
    return None


def _print_outcome(console: Console, outcome: Outcome, what: str) -> None:
    for note in outcome.notes:
        console.print(f"[yellow]![/] {note}")
    for finding in outcome.findings:
        console.print(f"[bold red]✗[/] {finding}", highlight=False, soft_wrap=True)
    if outcome.ok:
        console.print(
            f"[green]✓[/] {what}: 全部校验通过 / everything holds — {outcome.leaves} 叶子 "
            f"leaves, {outcome.readings} 读数 readings, {outcome.tree_heads} 树头 STHs"
        )
    else:
        console.print(
            f"[bold red]✗[/] {what}: 发现 {len(outcome.findings)} 处问题 / "
            f"{len(outcome.findings)} problem(s) found"
        )


def run_verify(
    console: Console,
    err_console: Console,
    *,
    export_dir: Path | None,
    report: Path | None,
    document: Path | None,
    public_key: Path | None,
    batch_rows: str,
    batch_ids: str | None = None,
    anchors: Path | None = None,
    head: Path | None = None,
    witness: str | None = None,
    sample: int | None = None,
    seed: int | None = None,
) -> bool:
    """Run the requested verification and print it; True when everything holds.

    The live database is checked against the anchor file (``anchors``, default
    ``<data_dir>/ledger/anchors.jsonl``); ``head``: a verifier's own tree head (STH JSON or
    a receipt), checked by consistency proof against the database's latest head;
    ``witness``: a witness's URL, whose latest countersigned head is checked the same way;
    ``sample``/``seed``: recompute the rollups of ``sample`` random day × point cells
    instead of all of them (live database only)."""
    from tansuan.ledger.signing import PUBLIC_KEY_FILE, key_dir, load_public_key
    from tansuan.ledger.sources import ExportSource
    from tansuan.ledger.verify import verify_receipt
    from tansuan.settings import get_settings

    _check_sample(sample, seed, live=report is None and export_dir is None)
    trusted = _trusted_key(public_key)
    if report is not None:
        # reports: a receipt JSON, an issued HTML, PDF or XLSX report (receipt embedded)
        # or an older XLSX report with FILE.receipt.json beside it
        from tansuan.reports.receipt import resolve

        receipt, content, findings = resolve(report, document)
        outcome = verify_receipt(receipt, public_key=trusted, document=content)
        for code, detail in findings:
            outcome.add(code, detail)
        _print_outcome(console, outcome, str(report))
        return outcome.ok

    own = [] if head is None else [_own_head(head)]
    if witness is not None:
        from tansuan.ledger.witness import fetch_latest

        own.append(fetch_latest(witness))
    if export_dir is not None:
        source: Source = ExportSource(export_dir, trusted)
        return _verify(console, err_console, source, anchors, own)

    if trusted is None:
        pub = key_dir(get_settings().data_dir) / PUBLIC_KEY_FILE
        if not pub.exists():
            raise ConfigError(f"没有公钥 / no public key at {pub}; pass --public-key")
        trusted = load_public_key(pub.read_bytes())
    if anchors is None:
        from tansuan.ledger.anchors import anchor_path

        anchors = anchor_path(get_settings().data_dir)
    with engine().connect() as connection:
        source = _live_source(connection, batch_rows, batch_ids, trusted)
        return _verify(console, err_console, source, anchors, own, sample=sample, seed=seed)


def _check_sample(sample: int | None, seed: int | None, *, live: bool) -> None:
    """``--sample``/``--seed`` apply to the live database's rollups only."""
    from tansuan.errors import InputError

    if seed is not None and sample is None:
        raise InputError("--seed 需与 --sample 同用 / --seed needs --sample N", field="seed")
    if sample is not None and sample < 1:
        raise InputError(f"--sample 须 ≥ 1 / --sample must be ≥ 1, got {sample}", field="sample")
    if sample is not None and not live:
        raise InputError(
            "--sample 仅用于在线数据库 / --sample recomputes the live database's rollups; "
            "an export or a report has none",
            field="sample",
        )


def _own_head(path: Path) -> Any:
    """A verifier's own copy of a tree head: an STH JSON file, or a receipt (its ``sth``)."""
    import json

    from tansuan.errors import InputError
    from tansuan.ledger.signing import TreeHead

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"不能读取树头 / cannot read the tree head {path}: {error}") from error
    if isinstance(doc, dict) and isinstance(doc.get("sth"), dict):
        doc = doc["sth"]
    if not isinstance(doc, dict):
        raise InputError(f"不是树头 / {path} is not a signed tree head", field="head")
    return TreeHead.from_json(doc, field="head")


def _verify(
    console: Console,
    err_console: Console,
    source: Source,
    anchors: Path | None = None,
    own: list[Any] | None = None,
    *,
    sample: int | None = None,
    seed: int | None = None,
) -> bool:
    """``verify_source``, then — with an anchor file or own heads — the check of the log
    against the heads kept outside it (:func:`~tansuan.ledger.verify_anchors.check_anchored`)."""
    from tansuan.ledger.anchors import AnchorFile
    from tansuan.ledger.verify import verify_source
    from tansuan.ledger.verify_anchors import check_anchored, merge

    with _progress(err_console, source.leaf_count(), "校验 / verifying") as advance:
        outcome = verify_source(source, progress=advance, sample=sample, seed=seed)
    if anchors is not None or own:
        heads, problems = AnchorFile(anchors).read() if anchors is not None else ([], [])
        where = f"anchor file {anchors}" if anchors is not None else "anchor file"
        extra = check_anchored(source, heads, problems=problems, own_heads=own or (), where=where)
        merge(outcome, extra)
        if anchors is not None:
            outcome.notes.append(
                f"checked against {len(heads)} 锚定树头 anchored tree heads in {anchors}"
            )
    _print_outcome(console, outcome, source.description)
    return outcome.ok
