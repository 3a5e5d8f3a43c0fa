"""HJ 212 packet content under hostile input (issue 17): out-of-range DataTimes, ambiguous
packets, lax numbers, plausibility of DataTime and values, and the catch-all answer.

Each test runs the real gateway on a loopback socket against a real SQLite table where the
outcome is about what is answered and stored; the host's clock is injected.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from tansuan.domain.quality import IMPLAUSIBLE, INVALID_FLAGS, QUALITY_FLAGS
from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.framing import Framer
from tansuan.gateways.hj212.mapping import Directory, Logger, local_to_utc, to_readings
from tansuan.gateways.hj212.server import Hj212Server
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.store.queries import series

from .hj212_fixtures import PW, SqliteSink, mn, read_answer, running, site_model

#: The host's clock in these tests: 2024-01-01 12:00 in Shanghai.
NOW = dt.datetime(2024, 1, 1, 4, 0, tzinfo=dt.UTC)


def fixed_now() -> dt.datetime:
    return NOW


def upload(cp: str, *, qn: str = "20240101100130001", cn: str = "2051", i: int = 0) -> bytes:
    return codec.build(cn=cn, cp=cp, qn=qn, pw=PW, mn=mn(i), flag=5)


GOOD = "DataTime=20240101100100;a05001-Avg=12.5,a05001-Flag=N"


async def exchange(
    server: Hj212Server, data: bytes, answers: int, timeout: float = 5.0
) -> list[codec.Packet]:
    """One ``write()`` of ``data``; the ``answers`` answer packets, in order."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    try:
        return [codec.decode(await read_answer(reader, timeout)) for _ in range(answers)]
    finally:
        writer.close()


def qn_rtn(answer: codec.Packet) -> str | None:
    return answer.cp.params.get("QnRtn")


# --- item 1: a DataTime out of range is a DataTimeError, the rest of the read goes on ---


@pytest.mark.parametrize("data_time", ["00010101000000", "00010101075959999"])
def test_datatime_without_utc_is_a_datatime_error(data_time: str) -> None:
    """Year 1 at UTC+8 has no UTC instant: was an OverflowError from astimezone."""
    shanghai = Directory.from_site_model(site_model(1)).authenticate(mn(0), PW).timezone
    with pytest.raises(codec.DataTimeError, match="not a calendar time"):
        local_to_utc(data_time, shanghai)


def test_datatime_out_of_range_is_answered_and_the_rest_of_the_read_stored(
    tmp_path: Path,
) -> None:
    sink = SqliteSink(tmp_path / "r.db")
    bad = upload("DataTime=00010101000000;a05001-Avg=1", qn="20240101100130001")
    good = upload(GOOD, qn="20240101100130002")
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="datatime")

    async def scenario() -> list[codec.Packet]:
        async with running(site_model(1), sink, now=fixed_now) as server:
            return await exchange(server, bad + good, 2)

    first, second = asyncio.run(scenario())
    assert (first.cn, first.qn, qn_rtn(first)) == ("9011", "20240101100130001", "100")
    assert (second.cn, second.qn) == ("9014", "20240101100130002")
    assert sink.rows() == [("plant", "s0.co2", "2024-01-01T02:01:00+00:00", 12.5, "N")]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="datatime") - before == 1


class _BrokenDirectory(Directory):
    """Fault injection: authentication of one MN raises an unexpected exception."""

    def authenticate(self, mn_: str | None, pw: str | None) -> Logger:
        if mn_ == mn(1):
            raise RuntimeError("injected bug")
        return super().authenticate(mn_, pw)


def test_an_unexpected_exception_is_answered_counted_logged_and_the_read_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = SqliteSink(tmp_path / "r.db")
    broken = upload(GOOD, qn="20240101100130001", i=1)
    good = upload(GOOD, qn="20240101100130002", i=0)
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="internal")

    async def scenario() -> list[codec.Packet]:
        directory = _BrokenDirectory.from_site_model(site_model(2))
        server = Hj212Server(directory, sink, now=fixed_now)
        await server.start("127.0.0.1", 0)
        try:
            return await exchange(server, broken + good, 2)
        finally:
            await server.close()

    with caplog.at_level(logging.ERROR, logger="tansuan.gateways.hj212.server"):
        first, second = asyncio.run(scenario())
    assert (first.cn, first.qn, first.mn, qn_rtn(first)) == (
        "9011",
        "20240101100130001",
        mn(1),
        "100",
    )
    assert (second.cn, second.qn) == ("9014", "20240101100130002")
    assert [row[1] for row in sink.rows()] == ["s0.co2"]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="internal") - before == 1
    assert any("injected bug" in r.getMessage() and r.exc_info for r in caplog.records)


# --- item 2: ambiguous packets are refused with the reason ---


AMBIGUOUS = [
    ("DataTime=20240101100100;a05001-Avg=1,a05001-Avg=99999", "'a05001-Avg' is given twice"),
    ("DataTime=20240101100100;a05001-Avg=1;a05001-Avg=99999", "a05001' appears in two CP items"),
    ("DataTime=20240101100100;a05001-Avg=1;a05001-Flag=N", "a05001' appears in two CP items"),
    ("DataTime=20240101100100;DataTime=20240101110100;a05001-Avg=1", "DataTime is given twice"),
    ("DataTime=20240101100100,DataTime=20240101100100;a05001-Avg=1", "DataTime is given twice"),
    ("RtdInterval=30;RtdInterval=60", "'RtdInterval' is given twice"),
]


@pytest.mark.parametrize(("cp", "why"), AMBIGUOUS)
def test_ambiguous_data_area_is_refused(cp: str, why: str) -> None:
    with pytest.raises(codec.AmbiguousPacket, match=why) as caught:
        codec.parse_cp(cp)
    assert (caught.value.reason, caught.value.qn_rtn) == ("duplicate", 100)


def test_ambiguous_packets_are_answered_counted_logged_and_not_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = SqliteSink(tmp_path / "r.db")
    packets = b"".join(
        upload(cp, qn=f"2024010110013{n:04d}") for n, (cp, _) in enumerate(AMBIGUOUS[:4])
    )
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="duplicate")

    async def scenario() -> list[codec.Packet]:
        async with running(site_model(1), sink, now=fixed_now) as server:
            return await exchange(server, packets + upload(GOOD), 5)

    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.server"):
        answers = asyncio.run(scenario())
    assert sorted((a.cn, qn_rtn(a)) for a in answers) == [("9011", "100")] * 4 + [("9014", None)]
    assert sink.rows() == [("plant", "s0.co2", "2024-01-01T02:01:00+00:00", 12.5, "N")]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="duplicate") - before == 4
    logged = [r.getMessage() for r in caplog.records if "[duplicate]" in r.getMessage()]
    assert len(logged) == 4 and "'a05001-Avg' is given twice" in logged[0]


def test_split_message_with_a_field_in_two_parts_is_refused(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "r.db")
    qn = "20240101100130001"

    def part(pno: int, cp: str) -> bytes:
        return codec.build(cn="2061", cp=cp, qn=qn, pw=PW, mn=mn(0), flag=7, pnum=2, pno=pno)

    data = part(1, "DataTime=20240101100000;a19001-Avg=8.5") + part(2, "a19001-Avg=99999")

    async def scenario() -> list[codec.Packet]:
        async with running(site_model(1), sink, now=fixed_now) as server:
            return await exchange(server, data, 1)

    (answer,) = asyncio.run(scenario())
    assert (answer.cn, qn_rtn(answer)) == ("9011", "100")
    assert sink.rows() == []


def test_split_parts_with_different_datatimes_are_refused() -> None:
    parts = [
        codec.parse_cp("DataTime=20240101100000;a1-Avg=1"),
        codec.parse_cp("DataTime=20240101110000;a2-Avg=1"),
    ]
    with pytest.raises(codec.AmbiguousPacket, match="2 different DataTimes"):
        codec.merge_cp(parts)


@pytest.mark.parametrize(
    "text",
    [
        "12\n",
        "12\r\n",
        " 12",
        "12 ",
        "1_0",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e999",
        "１２",
        "12\x00",
        "0x1F",
        "",
    ],
)
def test_lax_numbers_are_not_numbers(text: str) -> None:
    assert codec.parse_number(text) is None


def test_a_value_that_is_not_a_number_is_skipped_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = Directory.from_site_model(site_model(1)).authenticate(mn(0), PW)
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="value")
    cp = codec.Cp(data_time="20240101100100", values={"a05001": {"Avg": "12\n", "Flag": "N"}})
    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.mapping"):
        assert to_readings(logger, "2051", cp) == []
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="value") - before == 1
    assert any("a05001-Avg='12\\n'" in r.getMessage() for r in caplog.records)


# --- item 4: plausibility of DataTime (vs the host's clock and the QN) and of values ---


def test_implausible_is_a_stored_invalid_flag() -> None:
    assert IMPLAUSIBLE in QUALITY_FLAGS and IMPLAUSIBLE in INVALID_FLAGS


def test_datatime_ahead_of_the_clock_is_refused(tmp_path: Path) -> None:
    """12:00 now; 12:09 is within the 600 s window, 12:11 is not (10 h shifts too)."""
    sink = SqliteSink(tmp_path / "r.db")
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="datatime_future")
    within = upload("DataTime=20240101120900;a01012-Rtd=150", cn="2011", qn="20240101120900001")
    beyond = upload("DataTime=20240101121100;a01012-Rtd=151", cn="2011", qn="20240101121100001")
    shifted = upload("DataTime=20240101220000;a01012-Rtd=152", cn="2011", qn="20240101120000001")

    async def scenario() -> list[codec.Packet]:
        async with running(site_model(1), sink, now=fixed_now) as server:
            return await exchange(server, within + beyond + shifted, 3)

    answers = sorted(asyncio.run(scenario()), key=lambda a: a.qn or "")  # 9014 after commit
    assert [(a.qn, a.cn, qn_rtn(a)) for a in answers] == [
        ("20240101120000001", "9011", "100"),
        ("20240101120900001", "9014", None),
        ("20240101121100001", "9011", "100"),
    ]
    assert [(r[1], r[3]) for r in sink.rows()] == [("s0.temp", 150.0)]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="datatime_future") - before == 2


def test_datatime_after_its_qn_is_stored_flagged_implausible(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QN 09:00 but DataTime 11:00: one of them is wrong; the value is kept, flagged P."""
    sink = SqliteSink(tmp_path / "r.db")
    before = COUNTERS.get("tansuan_hj212_implausible_total", check="qn")
    data = upload(
        "DataTime=20240101110000;a01012-Rtd=150,a01012-Flag=N", cn="2011", qn="20240101090000001"
    )
    backfill = upload(  # DataTime well before the QN: a logger re-sending old data; fine
        "DataTime=20231231110000;a01012-Rtd=140,a01012-Flag=N", cn="2011", qn="20240101115900001"
    )
    no_time_qn = upload("DataTime=20240101110500;a01012-Rtd=141", cn="2011", qn="42")

    async def scenario() -> list[codec.Packet]:
        async with running(site_model(1), sink, now=fixed_now) as server:
            return await exchange(server, data + backfill + no_time_qn, 3)

    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.mapping"):
        answers = asyncio.run(scenario())
    assert [a.cn for a in answers] == ["9014"] * 3
    assert sink.rows() == [
        ("plant", "s0.temp", "2023-12-31T03:00:00+00:00", 140.0, "N"),
        ("plant", "s0.temp", "2024-01-01T03:00:00+00:00", 150.0, IMPLAUSIBLE),
        ("plant", "s0.temp", "2024-01-01T03:05:00+00:00", 141.0, "N"),
    ]
    assert COUNTERS.get("tansuan_hj212_implausible_total", check="qn") - before == 1
    assert any("after its QN=20240101090000001" in r.getMessage() for r in caplog.records)


def test_value_outside_the_valid_range_is_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway counts it; ingest quarantines it (out_of_range). T is exempt."""
    model = site_model(1, co2_range=(0.0, 100.0))
    logger = Directory.from_site_model(model).authenticate(mn(0), PW)
    before = COUNTERS.get("tansuan_hj212_implausible_total", check="range")
    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.mapping"):
        readings = to_readings(
            logger, "2051", codec.parse_cp("DataTime=20240101100100;a05001-Avg=99999")
        )
        to_readings(logger, "2051", codec.parse_cp("DataTime=20240101100100;a05001-Avg=50"))
        to_readings(
            logger, "2051", codec.parse_cp("DataTime=20240101100100;a05001-Avg=500,a05001-Flag=T")
        )
    assert [(r.point, r.value) for r in readings] == [("s0.co2", 99999.0)]
    assert COUNTERS.get("tansuan_hj212_implausible_total", check="range") - before == 1
    assert any("outside s0.co2's valid_range [0, 100]" in r.getMessage() for r in caplog.records)


def test_a_truncated_packet_does_not_swallow_the_good_one_after_it() -> None:
    good = upload(GOOD, qn="20240101100130002")
    truncated = upload(GOOD, qn="20240101100130001").rstrip()[:-9]  # no CRC, no "&&", no line end
    frames = Framer().feed(truncated + good)
    assert len(frames) == 2 and frames[1] == good.rstrip()
    with pytest.raises(codec.LengthError):
        codec.decode(frames[0])  # type: ignore[arg-type]
    assert codec.decode(good).qn == "20240101100130002"


def test_a_stray_hash_before_a_packet_does_not_lose_it() -> None:
    """'#' + '##0130…' was read as '##' + a bad length, and the packet was lost."""
    good = upload(GOOD)
    frames = Framer().feed(b"#" + good)
    assert [f for f in frames if isinstance(f, bytes)] == [good.rstrip()]


def test_a_wrong_length_cannot_take_the_next_packet_as_its_end() -> None:
    """'##0145QN=2023' + a 132-byte packet: 7 + 6 + 132 = 145, so by its length the
    broken one ended exactly at the good one's CRC."""
    good = upload(GOOD)
    declared = len(good.rstrip()) - 4 + 7  # the good frame, minus CRC, plus the 7 bytes
    broken = b"##" + f"{declared:04d}".encode() + b"QN=2023"
    frames = [f for f in Framer().feed(broken + good) if isinstance(f, bytes)]
    assert frames[-1] == good.rstrip()


def test_an_implausible_reading_is_stored_but_not_valid(store) -> None:  # type: ignore[no-untyped-def]
    """Through the real ingest and store: P is kept (not quarantined as bad_quality) and
    left out of the hour's valid values, like any invalid flag."""
    hour = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)
    result = Ingestor(store).ingest(
        [
            Reading("site", "power", hour, 500.0, quality=IMPLAUSIBLE),
            Reading("site", "power", hour + dt.timedelta(minutes=1), 300.0, quality="N"),
        ]
    )
    assert (result.new, result.errors) == (2, [])
    with store.read() as connection:
        raw = series(connection, "site", "power", hour, hour + dt.timedelta(hours=1), "raw")
        (bucket,) = series(connection, "site", "power", hour, hour + dt.timedelta(hours=1))
    assert [(r["value"], r["quality"]) for r in raw] == [(500.0, "P"), (300.0, "N")]
    assert (bucket["n"], bucket["n_valid"], bucket["sum"]) == (2, 1, 300.0)
