"""``tansuan verify --result ID`` and ``--results``: recompute results from their ledgered
inputs (:mod:`tansuan.accounting.reproduce`) and print what differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console


def _public_key(public_key: Path | None) -> Any:
    from tansuan.errors import ConfigError
    from tansuan.ledger.signing import PUBLIC_KEY_FILE, key_dir, load_public_key
    from tansuan.settings import get_settings

    path = public_key or key_dir(get_settings().data_dir) / PUBLIC_KEY_FILE
    if not path.exists():
        raise ConfigError(f"没有公钥 / no public key at {path}; pass --public-key")
    return load_public_key(path.read_bytes())


def _print(console: Console, found: Any) -> None:
    mark = "[green]✓[/]" if found.reproduced else "[bold red]✗[/]"
    console.print(f"{mark} {found.summary()}", highlight=False, soft_wrap=True)
    for difference in found.differences:
        console.print(f"    [red]≠[/] {difference}", highlight=False, soft_wrap=True)


def run_result(console: Console, ident: str, public_key: Path | None) -> bool:
    """Reproduce one result (set id or ``site/source/month``); True when reproduced."""
    from tansuan.accounting.reproduce import reproduce, resolve
    from tansuan.cli.app import store_session

    key = _public_key(public_key)
    with store_session() as store, store.read() as connection:
        found = reproduce(store, connection, resolve(connection, ident), key)
    _print(console, found)
    return found.reproduced


def run_results(console: Console, public_key: Path | None) -> bool:
    """Reproduce every current result; True when each one is reproduced."""
    from tansuan.accounting.reproduce import by_state, reproduce_all
    from tansuan.cli.app import store_session

    key = _public_key(public_key)
    with store_session() as store, store.read() as connection:
        found = reproduce_all(store, connection, key)
    groups = by_state(found)
    for item in groups.get("differs", []):
        _print(console, item)
    if groups.get("not_bound"):
        console.print(
            f"[yellow]![/] {len(groups['not_bound'])} 个核算结果未绑定输入 / results not bound "
            "(their leaves were written before results bound their inputs)"
        )
    console.print(
        f"{'[green]✓[/]' if not groups.get('differs') else '[bold red]✗[/]'} "
        f"{len(groups.get('reproduced', []))} 已复现 reproduced, "
        f"{len(groups.get('differs', []))} 未能复现 not reproduced, "
        f"{len(groups.get('not_bound', []))} 未绑定 not bound"
    )
    return not groups.get("differs")
