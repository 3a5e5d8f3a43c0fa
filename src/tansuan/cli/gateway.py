"""``tansuan hj212 …`` and ``tansuan gateway …``: packets and protocol gateways."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import app, console, err_console, fail
from tansuan.cli.gateway_run import register as register_gateways
from tansuan.errors import TansuanError

hj212_app = typer.Typer(
    rich_markup_mode=None,
    help="HJ 212-2017 packets: decode and build / HJ 212-2017 报文：解码与生成",
    no_args_is_help=True,
)
app.add_typer(hj212_app, name="hj212")
gateway_app = typer.Typer(
    rich_markup_mode=None,
    help="Run one protocol gateway alone / 单独运行一个协议网关",
    no_args_is_help=True,
)
app.add_typer(gateway_app, name="gateway")
# `tansuan gateway mqtt|modbus|opcua` (cli/gateway_run.py) join the same sub-app.

register_gateways(gateway_app)


@hj212_app.command("decode")
def hj212_decode(
    packet: str = typer.Argument(..., help="the whole packet, from ## to the CRC"),
) -> None:
    """Decode a packet and print it as JSON / 解码报文并以 JSON 输出.

    Exits 1 when the packet is not a valid packet (the length or CRC is wrong, after
    printing what was decoded), 2 when the input is not UTF-8 text.
    """
    import json

    from rich.markup import escape

    from tansuan.gateways.hj212 import codec

    text = packet.strip()
    for suffix in ("\\r\\n", "\\n"):  # a line end typed as text in a shell
        text = text.removesuffix(suffix)
    try:
        # The argument's bytes as the shell passed them (Python keeps undecodable bytes
        # of argv as surrogates): a packet is UTF-8, anything else is refused here.
        raw = text.encode("utf-8", "surrogateescape")
        raw.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError) as error:
        err_console.print(
            f"[bold red]错误 / error:[/] 报文不是 UTF-8 文本（第 {error.start + 1} 字节）/ "
            f"the packet is not UTF-8 text (byte {error.start + 1})"
        )
        raise typer.Exit(2) from None
    try:
        decoded = codec.decode(raw, verify=False)
    except codec.Hj212Error as error:  # the message quotes the packet: no rich markup
        err_console.print(f"[bold red]错误 / error:[/] {escape(str(error))}")
        raise typer.Exit(1) from None
    modbus = codec.crc_modbus_used(decoded.crc_declared, codec.data_segment(raw))
    console.print_json(json.dumps(codec.to_json(decoded, modbus_crc=modbus), ensure_ascii=False))
    for warning in decoded.warnings:
        err_console.print(f"[yellow]警告 / warning:[/] {escape(warning)}")
    problems = []
    if not decoded.length_ok:
        problems.append(
            f"长度错误 / length error: declared {decoded.length_declared:04d}, "
            f"data segment has {decoded.length_actual} bytes"
        )
    if not decoded.crc_ok:
        declared = "—" if decoded.crc_declared is None else f"{decoded.crc_declared:04X}"
        computed = f"{decoded.crc_computed:04X}"
        problem = f"CRC 校验错误 / CRC error: declared {declared}, computed {computed}"
        if modbus:
            problem = (
                f"CRC 校验错误：设备按 CRC-16/MODBUS 计算，而非 HJ 212-2017 附录 A / "
                f"CRC error: declared {declared} is the CRC-16/MODBUS of the data segment, "
                f"not the HJ 212-2017 Appendix A CRC ({computed})"
            )
        problems.append(problem)
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
    from tansuan.platform import open_standalone_gateway_sink
    from tansuan.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    console.print(
        f"HJ 212 网关 / gateway on {settings.hj212_host}:{settings.hj212_port} — Ctrl-C 停止 / stop"
    )
    try:
        run(settings, site_model, open_standalone_gateway_sink)
    except TansuanError as error:
        fail(error, code=1)
    except KeyboardInterrupt:
        console.print("已停止 / stopped")
