"""``tansuan …``: a thin shell over the library. Every command and option has help.

User-facing messages are bilingual (zh-CN / en).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tansuan import __version__
from tansuan.errors import TansuanError, ValidationFailed

app = typer.Typer(
    help="tansuan (碳算): count a plant's carbon precisely enough to trade on it.",
    no_args_is_help=True,
    add_completion=False,
)
site_app = typer.Typer(
    help="Site model: validate and load / 站点模型：校验与加载", no_args_is_help=True
)
app.add_typer(site_app, name="site")

console = Console()
err_console = Console(stderr=True)


def fail(error: TansuanError, code: int = 2) -> None:
    """Print a tansuan error the way users read it, then exit non-zero."""
    if isinstance(error, ValidationFailed):
        err_console.print(f"[bold red]错误 / error:[/] {error.args[0].splitlines()[0]}")
        for issue in error.issues:
            err_console.print(f"  • [yellow]{issue.path}[/]: {issue.detail} [dim]({issue.code})[/]")
    else:
        err_console.print(f"[bold red]错误 / error:[/] {error}")
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version / 显示版本."""
    console.print(f"tansuan {__version__}")


# --- HJ 212 (gateways/hj212) -------------------------------------------------------------
hj212_app = typer.Typer(
    help="HJ 212-2017 packets: decode and build / HJ 212-2017 报文：解码与生成",
    no_args_is_help=True,
)
app.add_typer(hj212_app, name="hj212")
gateway_app = typer.Typer(
    help="Run one protocol gateway alone / 单独运行一个协议网关", no_args_is_help=True
)
app.add_typer(gateway_app, name="gateway")


@hj212_app.command("decode")
def hj212_decode(
    packet: str = typer.Argument(..., help="the whole packet, from ## to the CRC"),
) -> None:
    """Decode a packet and print it as JSON / 解码报文并以 JSON 输出.

    Exits 1 when the length or CRC is wrong, after printing what was decoded.
    """
    import json

    from tansuan.gateways.hj212 import codec

    text = packet.strip()
    for suffix in ("\\r\\n", "\\n"):  # a line end typed as text in a shell
        text = text.removesuffix(suffix)
    try:
        decoded = codec.decode(text, verify=False)
    except codec.Hj212Error as error:
        fail(error, code=1)
    console.print_json(json.dumps(codec.to_json(decoded), ensure_ascii=False))
    problems = []
    if not decoded.length_ok:
        problems.append(
            f"长度错误 / length error: declared {decoded.length_declared:04d}, "
            f"data segment has {decoded.length_actual} bytes"
        )
    if not decoded.crc_ok:
        declared = "—" if decoded.crc_declared is None else f"{decoded.crc_declared:04X}"
        problems.append(
            f"CRC 校验错误 / CRC error: declared {declared}, computed {decoded.crc_computed:04X}"
        )
    for problem in problems:
        err_console.print(f"[bold red]错误 / error:[/] {problem}")
    if problems:
        raise typer.Exit(1)


@hj212_app.command("encode")
def hj212_encode(
    cn: str = typer.Option(..., help="command code, e.g. 2011, 2051, 2061, 2031"),
    mn: str = typer.Option(..., help="data-logger MN"),
    pw: str = typer.Option("123456", help="password (PW)"),
    st: str = typer.Option("31", help="system code (ST); 31 = air pollution source"),
    qn: str | None = typer.Option(None, help="request id; default: now, YYYYMMDDhhmmsszzz"),
    flag: int = typer.Option(5, help="Flag: 4 = HJ 212-2017, +1 ask for an answer"),
    cp: str = typer.Option("", help="data area without the && (e.g. 'DataTime=…;a05001-Rtd=1')"),
) -> None:
    """Build a packet with its length and CRC / 生成带长度与 CRC 的报文."""
    import datetime as dt

    from tansuan.gateways.hj212 import codec

    try:
        raw = codec.build(
            cn=cn,
            cp=cp,
            st=st,
            qn=qn or codec.make_qn(dt.datetime.now()),
            pw=pw,
            mn=mn,
            flag=flag,
        )
        codec.decode(raw)
    except codec.Hj212Error as error:
        fail(error, code=1)
    console.print(raw.decode("utf-8").rstrip(), markup=False, highlight=False, soft_wrap=True)


@gateway_app.command("hj212")
def gateway_hj212(
    site_model: Path = typer.Option(..., "--site-model", help="site-model YAML with loggers"),
) -> None:
    """Run the HJ 212-2017 TCP gateway / 运行 HJ 212-2017 网关 (host/port from settings)."""
    import logging

    from tansuan.gateways.hj212.run import run
    from tansuan.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    console.print(
        f"HJ 212 网关 / gateway on {settings.hj212_host}:{settings.hj212_port} — Ctrl-C 停止 / stop"
    )
    try:
        run(settings, site_model)
    except TansuanError as error:
        fail(error, code=1)
    except KeyboardInterrupt:
        console.print("已停止 / stopped")


@app.command()
def settings() -> None:
    """List every setting with its environment variable and help / 列出全部配置项."""
    from rich.table import Table

    from tansuan.settings import Settings, get_settings

    current = get_settings()
    table = Table("env", "value", "help")
    for name, field in Settings.model_fields.items():
        table.add_row(f"TANSUAN_{name.upper()}", str(getattr(current, name)), field.description)
    console.print(table)


@site_app.command("validate")
def site_validate(file: Path = typer.Argument(..., help="site-model YAML")) -> None:
    """Report every problem in a site model, with its path / 校验站点模型并列出全部问题."""
    from tansuan.site.validate import load

    try:
        model = load(file)
    except TansuanError as error:
        fail(error, code=1)
    sites = model.sites()
    n_points = sum(len(site.points()) for site in sites)
    console.print(
        f"[green]✓[/] {file}: {len(sites)} 个站点 site(s), {n_points} 个测点 point(s) — "
        "没有问题 / no problems"
    )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
