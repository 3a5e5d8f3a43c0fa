"""``tansuan signoff keygen|sign|register``: the verifier's own key and signature
(:mod:`tansuan.ledger.signoff`). ``keygen`` and ``sign`` run on the verifier's machine and
need no database: the server never holds the verifier's private key. ``register`` is run
by the grantor's administrator (``--as``) to put the public key on the grant."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import orjson
import typer

from tansuan.cli.app import console, failing

signoff_app = typer.Typer(
    rich_markup_mode=None,
    help="A verifier's sign-off: key, signature, registration / 核查签署：密钥、签名、登记",
    no_args_is_help=True,
)


@signoff_app.command("keygen")
def keygen(
    out: Path = typer.Option(..., "--out", help="file for the new private key (PEM) / 私钥文件"),
) -> None:
    """Make an Ed25519 key pair; prints the public key to register on the grant / 生成密钥."""
    from tansuan.ledger import signoff

    with failing(code=1):
        public = signoff.new_key(out)
    console.print(f"[green]✓[/] 私钥 / private key: {out} (mode 0600; keep it to yourself)")
    console.print(f"公钥 / public key (register it on the grant): {public}", soft_wrap=True)


@signoff_app.command("sign")
def sign(
    key: Path = typer.Option(..., "--key", help="the verifier's private key file / 私钥文件"),
    statement: Path = typer.Option(
        ...,
        "--statement",
        help='the statement: the draft\'s JSON ({"statement": …}) or the exact text; - = stdin',
    ),  # fmt: skip
    out: Path | None = typer.Option(None, "--out", help="write the JSON here (default: stdout)"),
) -> None:
    """Sign a statement: JSON {statement, signature, public_key} to upload / 签署声明."""
    import sys

    from tansuan.errors import InputError
    from tansuan.ledger import signoff

    with failing(code=1):
        try:
            raw = sys.stdin.read() if str(statement) == "-" else statement.read_text("utf-8")
        except OSError as error:
            raise InputError(f"cannot read {statement}: {error}", field="statement") from error
        text = raw.strip()
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("statement"), str):
            text = parsed["statement"]
        signed = signoff.sign(signoff.load_key(key), text)
    body = orjson.dumps(signed, option=orjson.OPT_INDENT_2).decode()
    if out is None:
        typer.echo(body)
    else:
        out.write_text(body + "\n", encoding="utf-8")
        console.print(f"[green]✓[/] 已签署 / signed: {out}")


@signoff_app.command("register")
def register(
    grant: int = typer.Option(..., "--grant", help="grant id / 授权编号"),
    public_key: str = typer.Option(..., "--public-key", help="64 hex digits / 公钥"),
    user: str = typer.Option(..., "--as", help="the grantor's administrator / 授权方管理员"),
) -> None:
    """Register the verifier's public key on a grant (a grant_key leaf) / 登记核查员公钥."""
    from tansuan.platform import open_platform
    from tansuan.views import filing, workbench

    with failing(code=1) as opened:
        platform = open_platform()
        opened.enter_context(closing(platform))
        by = filing.principal(platform.store, user)
        done = workbench.register_key(platform.store, platform.ledger, by, grant, public_key)
    console.print(f"[green]✓[/] 已登记 / registered on grant {done['grant_id']}: "
                  f"{done['public_key']}")  # fmt: skip
