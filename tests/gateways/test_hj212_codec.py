"""HJ 212-2017 codec: CRC vectors, the standard's example, real-device quirks, errors."""

from __future__ import annotations

import pytest

from tansuan.errors import ProtocolError
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.framing import Framer

#: HJ 212-2017 Appendix A example (set real-time interval, CN 1062). Its data segment is
#: 101 characters ("0101") and its CRC is 1C80; the prose under it says "1C08", a typo
#: (domain-facts §6.2). Text from the standard as we know it; the PDF in
#: guocay/hj212-protocol could not be read as text here. Both the length and the CRC
#: agree with the text, which a transcription error would break.
APPENDIX_A = (
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;"
    "MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)


def test_crc_check_string() -> None:
    """The check value of "123456789": HJ 212 Appendix A gives 2F80 (domain-facts §6.2)."""
    assert codec.crc16(b"123456789") == 0x2F80


def test_crc_is_not_modbus() -> None:
    """CRC-16/MODBUS of "123456789" is 4B37 (its catalogued check value)."""
    assert codec.crc16_modbus(b"123456789") == 0x4B37
    assert codec.crc16(b"123456789") != codec.crc16_modbus(b"123456789")


def test_crc_low_byte_only_takes_eight_values() -> None:
    """The algorithm keeps 8 bits of state, so the low byte is one of 8 values."""
    lows = {codec.crc16(bytes([a, b])) & 0xFF for a in range(256) for b in range(0, 256, 7)}
    assert lows <= codec.CRC_LOW_BYTES
    assert len(lows) == 8


def test_crc_of_empty_input_is_the_initial_register() -> None:
    assert codec.crc16(b"") == 0xFFFF


def test_appendix_a_example_decodes() -> None:
    packet = codec.decode(APPENDIX_A)
    assert packet.crc_declared == packet.crc_computed == 0x1C80
    assert packet.length_declared == packet.length_actual == 101
    assert (packet.qn, packet.st, packet.cn, packet.pw) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
    )
    assert packet.mn == "010000A8900016F000169DC0"
    assert packet.flag == 5 and packet.version == 1 and packet.wants_ack
    assert not packet.is_split
    assert packet.cp.params == {"RtdInterval": "30"}


def test_appendix_a_prose_typo_is_a_crc_error() -> None:
    with pytest.raises(codec.CrcError) as info:
        codec.decode(APPENDIX_A.replace("1C80", "1C08"))
    assert info.value.qn_rtn == 9
    assert info.value.packet is not None and info.value.packet.cn == "1062"
    assert "1C08" in str(info.value) and "cannot be an HJ 212" in str(info.value)


def test_modbus_crc_is_diagnosed() -> None:
    segment = APPENDIX_A[6:-6]
    wrong = f"{codec.crc16_modbus(segment.encode()):04X}"
    with pytest.raises(codec.CrcError, match="CRC-16/MODBUS"):
        codec.decode("##0101" + segment + wrong)


@pytest.mark.parametrize("tail", ["", "\n", "\r\n", "\r\n\r\n", "  \r\n", "\x00"])
def test_trailing_whitespace_variations(tail: str) -> None:
    assert codec.decode(APPENDIX_A.rstrip() + tail).crc_ok


def test_lower_case_crc() -> None:
    assert codec.decode(APPENDIX_A.replace("1C80", "1c80")).crc_declared == 0x1C80


def test_real_device_style_packets() -> None:
    """Short MN (14 and 6 characters), no QN, Flag=4: what loggers in the field send."""
    segment = (
        "ST=31;CN=2061;PW=123456;MN=88888880000001;Flag=4;CP=&&DataTime=20240101100000;"
        "a00000-Avg=5.331,a00000-Cou=19191.973,a00000-Flag=N;"
        "a05001-Min=80000.5,a05001-Avg=82000.1,a05001-Max=83000.9,a05001-Flag=N;SB1-RS=1&&"
    )
    packet = codec.decode(codec.frame(segment, lowercase=True))
    assert packet.qn is None and packet.mn == "88888880000001" and not packet.wants_ack
    assert packet.cp.data_time == "20240101100000"
    assert packet.cp.values["a00000"] == {"Avg": "5.331", "Cou": "19191.973", "Flag": "N"}
    assert packet.cp.values["a05001"]["Max"] == "83000.9"
    assert packet.cp.status == {"SB1": {"RS": "1"}}
    short = codec.decode(codec.frame(segment.replace("88888880000001", "A1B2C3")))
    assert short.mn == "A1B2C3"


def test_missing_flag_is_a_2005_style_packet() -> None:
    packet = codec.decode(codec.frame("ST=31;CN=2011;PW=1;MN=X1;CP=&&DataTime=20240101000000&&"))
    assert packet.flag is None and packet.version == 0 and not packet.wants_ack


def test_chinese_text_length_and_crc_are_over_utf8_bytes() -> None:
    segment = "ST=91;CN=3020;PW=123456;MN=X1;Flag=4;CP=&&Info=烟囱一号&&"
    raw = codec.frame(segment)
    assert raw[2:6] == f"{len(segment.encode('utf-8')):04d}".encode()
    assert codec.decode(raw).cp.params["Info"] == "烟囱一号"


@pytest.mark.parametrize(
    ("raw", "error", "qn_rtn"),
    [
        # declared length one too many / too few
        ("##0102" + APPENDIX_A[6:], codec.LengthError, 100),
        ("##0100" + APPENDIX_A[6:], codec.LengthError, 100),
        ("##01a1" + APPENDIX_A[6:], codec.LengthError, 100),
        (APPENDIX_A.replace("1C80", "1C8G"), codec.CrcError, 9),
        (APPENDIX_A[2:], codec.MalformedPacket, 100),
    ],
)
def test_strict_about_length_and_crc(raw: str, error: type[codec.Hj212Error], qn_rtn: int) -> None:
    with pytest.raises(error) as info:
        codec.decode(raw)
    assert info.value.qn_rtn == qn_rtn
    assert isinstance(info.value, ProtocolError)


@pytest.mark.parametrize(
    ("segment", "error"),
    [
        ("QN=2016x;ST=31;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&", codec.QnError),
        ("ST=3!;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&", codec.StError),
        ("ST=31;CN=20;PW=1;MN=X;Flag=4;CP=&&&&", codec.CnError),
        ("ST=31;CN=2011;PW=1;MN=X;Flag=256;CP=&&&&", codec.FlagError),
        ("ST=31;CN=2011;PW=1;MN=X;Flag=7;CP=&&&&", codec.FlagError),  # D set, no PNUM/PNO
        ("ST=31;CN=2011;PW=1;MN=X;Flag=7;PNUM=2;PNO=3;CP=&&&&", codec.FlagError),
        ("ST=31;CN=2011;PW=1;MN=X y;Flag=4;CP=&&&&", codec.MnError),
        ("ST=31;CN=2011;PW=1;MN=X;Flag=4;CP=&&a01012-Rtd&&", codec.MalformedPacket),
        ("ST=31;CN=2011;PW=1;MN=X;Flag=4;Foo=1;CP=&&&&", codec.MalformedPacket),
        ("ST=31;CN=2011;PW=1;MN=X;Flag=4", codec.MalformedPacket),
    ],
)
def test_field_errors_carry_their_qn_rtn(segment: str, error: type[codec.Hj212Error]) -> None:
    with pytest.raises(error):
        codec.decode(codec.frame(segment))


def test_return_codes_follow_table_7() -> None:
    """HJ 212-2017 Table 7: 3 PW, 4 MN, 5 ST, 6 Flag, 7 QN, 8 CN, 9 CRC, 100 other."""
    assert codec.PasswordError.qn_rtn == 3
    assert codec.MnError.qn_rtn == 4
    assert codec.StError.qn_rtn == 5
    assert codec.FlagError.qn_rtn == 6
    assert codec.QnError.qn_rtn == 7
    assert codec.CnError.qn_rtn == 8
    assert codec.CrcError.qn_rtn == 9
    assert codec.LengthError.qn_rtn == 100


def test_split_packet_fields() -> None:
    packet = codec.decode(
        codec.build(
            cn="2051", cp="DataTime=20240101100000", qn="1", pw="1", mn="X", flag=7, pnum=2, pno=1
        )
    )
    assert packet.is_split and packet.wants_ack and (packet.pnum, packet.pno) == (2, 1)


def test_build_9014_answer_echoes_the_request() -> None:
    request = codec.decode(APPENDIX_A)
    answer = codec.decode(codec.answer(request, "9014"))
    assert (answer.qn, answer.st, answer.cn, answer.pw, answer.mn) == (
        "20160801085857223",
        "91",
        "9014",
        "100000",
        "010000A8900016F000169DC0",
    )
    assert answer.flag == 4 and not answer.wants_ack


def test_to_json_layout() -> None:
    raw = codec.build(
        cn="2011",
        qn="20240101120000001",
        pw="123456",
        mn="88888880000001",
        cp="DataTime=20240101120000;a05001-Rtd=1.50,a05001-Flag=N;SB1-RS=1",
    )
    data = codec.to_json(codec.decode(raw))
    assert list(data) == ["qn", "st", "cn", "pw", "mn", "flag", "pnum", "pno", "cp", "crc"]
    assert data["flag"] == {"version": 1, "d": False, "a": True}
    assert data["cp"] == {
        "DataTime": "20240101120000",
        "values": {"a05001": {"Rtd": 1.5, "Flag": "N"}, "SB1": {"RS": 1}},
    }
    assert data["crc"]["ok"] is True and data["crc"]["declared"] == data["crc"]["computed"]


def test_framer_splits_a_stream_and_resyncs_on_garbage() -> None:
    good = APPENDIX_A.encode()
    framer = Framer()
    stream = b"noise" + good + b"##0xyz" + good.rstrip() + good  # second one has no CRLF
    out = []
    for i in range(0, len(stream), 7):  # arrives in small pieces
        out.extend(framer.feed(stream[i : i + 7]))
    frames = [f for f in out if isinstance(f, bytes)]
    errors = [f for f in out if isinstance(f, codec.Hj212Error)]
    assert len(frames) == 3 and all(codec.decode(f).crc_ok for f in frames)
    assert [type(e) for e in errors] == [codec.LengthError]
    assert framer.garbage_bytes == len(b"noise") + len(b"0xyz")
    assert not framer.pending


def test_framer_reports_a_wrong_length_at_the_line_end() -> None:
    framer = Framer()
    out = framer.feed(b"##0150" + APPENDIX_A[6:].encode())
    assert len(out) == 1 and isinstance(out[0], bytes)
    with pytest.raises(codec.LengthError):
        codec.decode(out[0])


def test_framer_bounds_its_buffer() -> None:
    framer = Framer()
    out = framer.feed(b"##1000" + b"x" * 2000)
    assert any(isinstance(e, codec.PacketTooLong) for e in out)
    assert len(framer._buf) < framer.max_frame
    assert any(isinstance(e, codec.PacketTooLong) for e in framer.feed(b"##9999"))


@pytest.mark.parametrize(
    ("segment", "error"),
    [
        ("ST=31;CN=2011;PW=1;MN=X;Flag=²;CP=&&&&", codec.FlagError),
        ("ST=31;CN=٢٠١١;PW=1;MN=X;Flag=4;CP=&&&&", codec.CnError),
        ("QN=２０２４;ST=31;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&", codec.QnError),
    ],
)
def test_only_ascii_digits_are_numbers(segment: str, error: type[codec.Hj212Error]) -> None:
    with pytest.raises(error):
        codec.decode(codec.frame(segment))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12.5", 12.5),
        ("-0.5", -0.5),
        ("+3", 3.0),
        (".5", 0.5),
        ("7.", 7.0),
        ("1e3", 1000.0),
        ("1_000", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        ("1,5", None),
        ("0x10", None),
    ],
)
def test_parse_number(text: str, number: float | None) -> None:
    assert codec.parse_number(text) == number


#: A CN=2061 upload with the 24-character PW a real logger sends (issue 18 #19).
LONG_PW = "BF470F88957588DE902D1A52"
REAL_2061 = (
    f"QN=20240301100000000;ST=32;CN=2061;PW={LONG_PW};MN=88888880000001;Flag=5;"
    "CP=&&DataTime=20240301090000;w01018-Avg=21.3,w01018-Flag=N&&"
)


def test_a_real_loggers_24_character_pw_is_accepted_with_a_warning() -> None:
    """Issue 18 #19: length and CRC right, PW of 24 characters (the standard writes 6):
    decoded, and the packet says it is non-standard; a 6-character PW says nothing."""
    packet = codec.decode(codec.frame(REAL_2061))
    assert packet.pw == LONG_PW and packet.cn == "2061"
    (warning,) = packet.warnings
    assert "PW" in warning and "24" in warning and "6" in warning
    assert codec.to_json(packet)["warnings"] == [warning]
    assert codec.decode(codec.frame(REAL_2061.replace(LONG_PW, "123456"))).warnings == ()
    assert "warnings" not in codec.to_json(codec.decode(APPENDIX_A))


@pytest.mark.parametrize("pw", ["x" * (codec.MAX_PW + 1), "12 34", "12\x7f4"])
def test_a_pw_past_the_limit_or_not_printable_is_still_refused(pw: str) -> None:
    with pytest.raises(codec.PasswordError):
        codec.decode(codec.frame(REAL_2061.replace(LONG_PW, pw)))


def test_repeated_polid_groups_are_decoded_per_polid() -> None:
    """Issue 18 #20: a CN=3020 upload gives i12001/i12003 under each of two PolIds; each
    pollutant keeps its own values (neither refused as a duplicate nor overwritten)."""
    segment = (
        "QN=20240301100000000;ST=32;CN=3020;PW=123456;MN=88888880000001;Flag=4;"
        "CP=&&DataTime=20240301100000;PolId=w01018;i12001-Info=1;i12003-Info=0.5;"
        "PolId=w21003,i12001-Info=2,i12003-Info=0.7&&"
    )
    packet = codec.decode(codec.frame(segment))
    groups = packet.cp.groups
    assert list(groups) == ["w01018", "w21003"]
    assert groups["w01018"].values == {"i12001": {"Info": "1"}, "i12003": {"Info": "0.5"}}
    assert groups["w21003"].values == {"i12001": {"Info": "2"}, "i12003": {"Info": "0.7"}}
    assert packet.cp.values == {} and "PolId" not in packet.cp.params
    cp = codec.to_json(packet)["cp"]
    assert cp["groups"]["w21003"]["values"]["i12003"] == {"Info": "0.7"}
    # The same code twice inside one PolId, or the same PolId twice, is still ambiguous.
    for ambiguous in (
        "PolId=w01018;i12001-Info=1;i12001-Info=2",
        "PolId=w01018;i12001-Info=1;PolId=w01018;i12001-Info=2",
    ):
        with pytest.raises(codec.AmbiguousPacket):
            codec.parse_cp(ambiguous)


def test_polid_groups_of_a_split_message_are_merged() -> None:
    first = codec.parse_cp("DataTime=20240301100000;PolId=w01018;i12001-Info=1")
    second = codec.parse_cp("PolId=w01018;i12003-Info=0.5;PolId=w21003;i12001-Info=2")
    merged = codec.merge_cp([first, second])
    assert merged.groups["w01018"].values == {"i12001": {"Info": "1"}, "i12003": {"Info": "0.5"}}
    assert merged.groups["w21003"].values == {"i12001": {"Info": "2"}}
