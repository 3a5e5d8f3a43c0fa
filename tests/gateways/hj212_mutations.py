"""Mutated HJ 212 packets for the fuzz gate: what a faulty logger or an attacker sends.

Valid packets (:func:`valid`) are 2024 minute uploads; every mutation is built from a 2023
template, so a mutation that the CRC lets through (about 0.5 % of 2-bit flips) can only
store a 2023 reading and never collides with a valid one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from tansuan.gateways.hj212 import codec

from .hj212_fixtures import PW, mn

#: Minute uploads of the valid packets start here (site-local time).
VALID_START = dt.datetime(2024, 1, 1, 0, 0)
#: The templates of every mutation (site-local time).
MUTANT_TIME = "20230601100100"
MUTANT_QN = "20230601100130001"

BAD_TIMES = [
    "00010101000000",
    "00010101075959999",
    "99991231235959",
    "20231301100100",
    "20230230100100",
    "20230601250000",
    "2023060110010",
    "202306011001001234",
    "2023O601100100",
    "",
    "20990101000000",
    "１２３４５６７８９０１２３４",
    "2023-06-01 10:01",
]
BAD_NUMBERS = [
    "1" * 300,
    "1e308",
    "-1e999",
    "99999999999999.99",
    "12\n",
    " 12",
    "nan",
    "inf",
    "1_0",
    "+-1",
    "0x10",
    "",
    "１２",
]
BAD_HEADERS = [
    {"cn": "9999"},
    {"cn": "20x1"},
    {"st": "!!"},
    {"flag": 999},
    {"flag": 7},  # split without PNUM/PNO
    {"flag": 7, "pnum": 2, "pno": 3},
    {"flag": 7, "pnum": 3, "pno": 1},  # a part whose siblings never come
    {"pw": "wrong"},
    {"mn": "UNKNOWN0000001"},
    {"mn": None},
    {"qn": "1" * 25},
]


def valid(n: int, logger: int) -> tuple[bytes, str, str]:
    """Valid upload ``n`` of ``logger``: (packet, QN, DataTime); each a distinct minute."""
    when = VALID_START + dt.timedelta(minutes=n)
    data_time = f"{when:%Y%m%d%H%M%S}"
    qn = codec.make_qn(when + dt.timedelta(seconds=30))
    cp = f"DataTime={data_time};a05001-Avg={value(n)},a05001-Flag=N"
    return codec.build(cn="2051", cp=cp, qn=qn, pw=PW, mn=mn(logger), flag=5), qn, data_time


def value(n: int) -> str:
    """The a05001 average of valid upload ``n``."""
    return f"{n % 997 + 0.25:.2f}"


def _packet(rng: random.Random, cp: str | None = None, **header: object) -> bytes:
    fields: dict[str, object] = {
        "cn": rng.choice(["2011", "2051", "2061", "2031", "2021", "2041", "1013", "9014"]),
        "qn": MUTANT_QN,
        "pw": PW,
        "mn": mn(rng.randrange(2)),
        "flag": 5,
    }
    fields.update(header)
    if cp is None:
        cp = f"DataTime={MUTANT_TIME};a05001-Avg=1.5,a05001-Flag=N;a01012-Rtd=20.5"
    segment = codec.build_segment(cp=cp, **fields)  # type: ignore[arg-type]
    return _frame_bytes(segment.encode("utf-8", "surrogateescape"))


def _frame_bytes(segment: bytes) -> bytes:
    """Frame a segment of any bytes with its true length and CRC (content mutations)."""
    crc = f"{codec.crc16(segment):04X}".encode()
    return b"##" + f"{len(segment) % 10000:04d}".encode() + segment + crc + b"\r\n"


def bit_flips(rng: random.Random) -> bytes:
    data = bytearray(_packet(rng, cn="2051"))
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def truncation(rng: random.Random) -> bytes:
    data = _packet(rng)
    cut = data[: rng.randrange(1, len(data) - 2)]
    return cut + rng.choice([b"", b"\r\n", b"\n"])


def duplicated_field(rng: random.Random) -> bytes:
    cp = rng.choice(
        [
            f"DataTime={MUTANT_TIME};a05001-Avg=1,a05001-Avg=99999",
            f"DataTime={MUTANT_TIME};a05001-Avg=1;a05001-Avg=99999",
            f"DataTime={MUTANT_TIME};a05001-Avg=1;a05001-Flag=N",
            f"DataTime={MUTANT_TIME};DataTime=20230601200100;a05001-Avg=1",
            f"DataTime={MUTANT_TIME};RtdInterval=30;RtdInterval=60;a05001-Avg=1",
        ]
    )
    return _packet(rng, cp)


def bad_datatime(rng: random.Random) -> bytes:
    return _packet(rng, f"DataTime={rng.choice(BAD_TIMES)};a05001-Avg=1;a01012-Rtd=2")


def bad_number(rng: random.Random) -> bytes:
    number = rng.choice(BAD_NUMBERS)
    return _packet(rng, f"DataTime={MUTANT_TIME};a05001-Avg={number};a01012-Rtd={number}")


def not_utf8(rng: random.Random) -> bytes:
    cp = f"DataTime={MUTANT_TIME};a05001-Avg=1"
    segment = bytearray(
        codec.build_segment(cn="2051", cp=cp, qn=MUTANT_QN, pw=PW, mn=mn(0)).encode()
    )
    segment[rng.randrange(len(segment))] = rng.randint(0x80, 0xFF)
    return _frame_bytes(bytes(segment))


def bad_header(rng: random.Random) -> bytes:
    return _packet(rng, **rng.choice(BAD_HEADERS))


def bad_length(rng: random.Random) -> bytes:
    data = bytearray(_packet(rng))
    data[2:6] = rng.choice([b"9999", b"0000", b"01x3", f"{rng.randrange(10000):04d}".encode()])
    return bytes(data)


def garbage(rng: random.Random) -> bytes:
    data = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 120)))
    return rng.choice([b"", b"##"]) + data + rng.choice([b"", b"\r\n"])


def bad_cp_syntax(rng: random.Random) -> bytes:
    cp = rng.choice(
        [
            "DataTime",
            "=1",
            f"DataTime={MUTANT_TIME};a05001-=1",
            f"DataTime={MUTANT_TIME};-Avg=1",
            f"DataTime={MUTANT_TIME};;;,,,",
            f"DataTime={MUTANT_TIME};a05001-Avg=1&&;x=&&",
            f"DataTime={MUTANT_TIME};" + "a-b=1," * 150,
        ]
    )
    return _packet(rng, cp)


MUTATIONS: list[Callable[[random.Random], bytes]] = [
    bit_flips,
    truncation,
    duplicated_field,
    bad_datatime,
    bad_number,
    not_utf8,
    bad_header,
    bad_length,
    garbage,
    bad_cp_syntax,
]


def mutant(rng: random.Random) -> bytes:
    """One mutated packet (any kind)."""
    return rng.choice(MUTATIONS)(rng)
