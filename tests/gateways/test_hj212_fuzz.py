"""Hypothesis fuzzing of the HJ 212 codec: only its own error ever escapes; round-trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.framing import Framer

from .test_hj212_codec import APPENDIX_A

_digits = st.text("0123456789", min_size=1, max_size=20)
_code = st.from_regex(r"\A[a-z][0-9]{5}\Z")
_number = st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.6g}")
_fields = st.dictionaries(
    st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsAvg"]), _number, min_size=1, max_size=4
).flatmap(lambda f: st.sampled_from("NFMSDCTB").map(lambda flag: {**f, "Flag": flag}))


@st.composite
def packets(draw: st.DrawFn) -> dict[str, object]:
    values = draw(st.dictionaries(_code, _fields, max_size=6))
    split = draw(st.booleans())
    pnum = draw(st.integers(1, 50)) if split else None
    return {
        "qn": draw(st.none() | _digits),
        "st": draw(st.sampled_from(["22", "31", "32", "51", "91"])),
        "cn": draw(st.sampled_from(["2011", "2051", "2061", "2031", "9014"])),
        "pw": draw(st.text("abcdef0123456789", min_size=0, max_size=9)),
        "mn": draw(st.from_regex(r"\A[0-9A-F]{1,24}\Z")),
        "flag": 4 | draw(st.integers(0, 1)) | (2 if split else 0),
        "pnum": pnum,
        "pno": draw(st.integers(1, pnum)) if pnum else None,
        "data_time": draw(st.from_regex(r"\A20[0-9]{12}\Z")),
        "values": values,
    }


@settings(max_examples=300, deadline=None)
@given(packets())
def test_build_then_parse_round_trips(p: dict[str, object]) -> None:
    values = p.pop("values")
    data_time = p.pop("data_time")
    cp = codec.format_cp(data_time, values)  # type: ignore[arg-type]
    segment = codec.build_segment(cp=cp, **p)  # type: ignore[arg-type]
    if len(segment.encode()) > codec.MAX_SEGMENT:
        return
    packet = codec.decode(codec.frame(segment))
    assert packet.crc_ok and packet.length_ok
    assert (packet.qn, packet.st, packet.cn, packet.mn, packet.flag, packet.pnum, packet.pno) == (
        p["qn"],
        p["st"],
        p["cn"],
        p["mn"],
        p["flag"],
        p["pnum"],
        p["pno"],
    )
    assert (packet.pw or "") == p["pw"]
    assert packet.cp.data_time == data_time
    assert packet.cp.values == values


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=1200))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    try:
        codec.decode(data)
    except codec.Hj212Error:
        pass
    framer = Framer()
    for item in framer.feed(data):
        if isinstance(item, bytes):
            try:
                codec.decode(item)
            except codec.Hj212Error:
                pass


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(APPENDIX_A) - 1),
            st.integers(0, 255),
            st.sampled_from(["replace", "delete", "insert"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_packets_raise_only_protocol_errors(
    mutations: list[tuple[int, int, str]],
) -> None:
    data = bytearray(APPENDIX_A.encode())
    for position, byte, how in mutations:
        position = min(position, len(data) - 1)
        if how == "replace":
            data[position] = byte
        elif how == "delete":
            del data[position]
        else:
            data.insert(position, byte)
    try:
        packet = codec.decode(bytes(data))
    except codec.Hj212Error:
        return
    # a mutation that still decodes must have kept the CRC and length consistent
    assert packet.crc_ok and packet.length_ok


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_random_segments_raise_only_protocol_errors(text: str) -> None:
    try:
        codec.parse_segment(text)
    except codec.Hj212Error:
        pass
    try:
        codec.decode(codec.frame(text))
    except codec.Hj212Error:
        pass
