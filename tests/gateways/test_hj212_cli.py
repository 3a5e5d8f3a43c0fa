"""``tansuan hj212 decode|encode`` and ``tansuan gateway hj212``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.gateways.hj212 import codec

from .test_hj212_codec import APPENDIX_A

runner = CliRunner()


def test_decode_prints_the_documented_json() -> None:
    packet = codec.build(
        cn="2051",
        qn="20240101100130001",
        pw="123456",
        mn="88888880000001",
        cp="DataTime=20240101100100;a05001-Min=1.5,a05001-Avg=2.5,a05001-Max=3.5,"
        "a05001-Flag=N;a00000-Cou=319.86,a00000-Flag=C",
    ).decode()
    result = runner.invoke(app, ["hj212", "decode", packet])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "qn": "20240101100130001",
        "st": "31",
        "cn": "2051",
        "pw": "123456",
        "mn": "88888880000001",
        "flag": {"version": 1, "d": False, "a": True},
        "pnum": None,
        "pno": None,
        "cp": {
            "DataTime": "20240101100100",
            "values": {
                "a05001": {"Min": 1.5, "Avg": 2.5, "Max": 3.5, "Flag": "N"},
                "a00000": {"Cou": 319.86, "Flag": "C"},
            },
        },
        "crc": {
            "declared": data["crc"]["computed"],
            "computed": data["crc"]["computed"],
            "ok": True,
        },
    }


def test_decode_appendix_a_example() -> None:
    result = runner.invoke(app, ["hj212", "decode", APPENDIX_A.rstrip() + "\\r\\n"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["crc"] == {"declared": "1C80", "computed": "1C80", "ok": True}


def test_decode_with_a_bad_crc_prints_and_fails() -> None:
    result = runner.invoke(app, ["hj212", "decode", APPENDIX_A.replace("1C80", "1C08")])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["crc"] == {"declared": "1C08", "computed": "1C80", "ok": False}
    assert "CRC 校验错误 / CRC error" in result.stderr


def test_decode_with_a_bad_length_prints_and_fails() -> None:
    result = runner.invoke(app, ["hj212", "decode", "##0100" + APPENDIX_A[6:]])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["cn"] == "1062"
    assert "长度错误 / length error: declared 0100, data segment has 101 bytes" in result.stderr


def test_decode_names_a_crc_computed_as_crc16_modbus() -> None:
    """Issue 18 #21 (docs/protocols.md): a packet whose CRC is the data segment's
    CRC-16/MODBUS is named as such, in the JSON and in the error line (exit 1)."""
    segment = APPENDIX_A[6:-6]
    modbus = f"{codec.crc16_modbus(segment.encode()):04X}"
    result = runner.invoke(app, ["hj212", "decode", "##0101" + segment + modbus])
    assert result.exit_code == 1
    crc = json.loads(result.stdout)["crc"]
    assert crc == {"declared": modbus, "computed": "1C80", "ok": False,
                   "algorithm": "CRC-16/MODBUS"}  # fmt: skip
    assert "CRC-16/MODBUS" in result.stderr and "Appendix A" in result.stderr
    # Any other wrong CRC keeps the generic message.
    other = runner.invoke(app, ["hj212", "decode", APPENDIX_A.replace("1C80", "1C08")])
    assert "MODBUS" not in other.stderr and "algorithm" not in json.loads(other.stdout)["crc"]


def test_decode_accepts_a_24_character_pw_and_warns() -> None:
    """Issue 18 #19: exit 0, the PW decoded, a localized warning on stderr."""
    pw = "BF470F88957588DE902D1A52"
    cp = "DataTime=20240301090000;w01018-Avg=21.3,w01018-Flag=N"
    packet = codec.build(cn="2061", qn="20240301100000000", pw=pw, mn="88888880000001", cp=cp)
    packet = packet.decode()
    result = runner.invoke(app, ["hj212", "decode", packet])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pw"] == pw
    assert "警告 / warning" in result.stderr and "24" in result.stderr


def test_decode_of_garbage_fails_clearly() -> None:
    result = runner.invoke(app, ["hj212", "decode", "hello"])
    assert result.exit_code == 1
    assert "错误 / error" in result.stderr and "##" in result.stderr


def test_encode_builds_a_packet_that_decodes() -> None:
    result = runner.invoke(
        app,
        [
            "hj212",
            "encode",
            "--cn",
            "2011",
            "--mn",
            "88888880000001",
            "--qn",
            "1",
            "--cp",
            "DataTime=20240101100000;a05001-Rtd=2.5,a05001-Flag=N",
        ],
    )
    assert result.exit_code == 0, result.output
    packet = codec.decode(result.stdout.strip())
    assert packet.cn == "2011" and packet.cp.values == {"a05001": {"Rtd": "2.5", "Flag": "N"}}


def test_client_takes_table_1_defaults_from_settings() -> None:
    """HJ 212-2017 Table 1: 10 s timeout, 3 resends over mobile networks."""
    from tansuan.gateways.hj212.client import Hj212Client
    from tansuan.settings import Settings

    client = Hj212Client.from_settings(Settings(), mn="X1", pw="123456")
    assert (client.timeout_s, client.retries, client.port) == (10.0, 3, 8212)
