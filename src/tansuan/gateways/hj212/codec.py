"""HJ 212-2017 packets: CRC, parsing, building and stream framing.

A packet on the wire (HJ 212-2017 §6.3)::

    ##  0101  QN=…;ST=32;CN=1062;PW=100000;MN=…;Flag=5;CP=&&RtdInterval=30&&  1C80  \\r\\n
    |   |     |<------------------------ data segment ------------------------>|  |
    |   |     (length and CRC cover the data segment only, as UTF-8 bytes)        CRC16, 4 hex
    |   4-digit decimal length of the data segment (0 … 1024)
    header

Tolerant of what real loggers send — short MNs, PWs longer than the standard's 6
characters (:attr:`Packet.warnings` says so), lower-case CRC hex, a missing QN or
Flag, any trailing whitespace (``\\r\\n``, ``\\n``, none) — and strict about what
matters: the declared length and the CRC must be right.

Every error is an :class:`Hj212Error` (a :class:`~tansuan.errors.ProtocolError`) with a
``reason`` and the ``qn_rtn`` the host answers with (HJ 212-2017 Table 7):

=================  ======  =================================================
reason             QnRtn   meaning
=================  ======  =================================================
``crc``            9       CRC missing, not 4 hex digits, or wrong
``password``       3       PW not the site model's, or not up to 64 printable chars
``mn``             4       MN missing, malformed, or not in the site model
``st``             5       ST malformed
``flag``           6       Flag not 0–255, or PNUM/PNO missing or inconsistent
``qn``             7       QN malformed
``cn``             8       CN malformed or not supported by this host
``length``         100     declared length missing or not the data segment's
``too_long``       100     data segment longer than 1024 characters
``syntax``         100     anything else malformed (header, CP, encoding)
``datatime``       100     DataTime missing or not a valid local time
``datatime_future``  100   DataTime later than the host's clock (or the QN) allows
``duplicate``      100     ambiguous: a field, a code or DataTime given twice
=================  ======  =================================================

The standard has no QnRtn for a length error, so 100 ("other") is used.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tansuan.errors import ProtocolError

#: Largest data segment the standard allows [characters] (HJ 212-2017 §6.3.1).
MAX_SEGMENT = 1024
HEADER = b"##"
#: Flag bits (HJ 212-2017 §6.3.3): ``V5…V0 D A``.
FLAG_ACK = 0x01
FLAG_SPLIT = 0x02
#: Flag of a 2017 packet that asks for nothing (version 000001, D = 0, A = 0).
FLAG_2017 = 0x04
#: CP fields written as numbers in JSON; everything else stays text.
NUMERIC_FIELDS = frozenset(
    {"Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax", "RT", "RS"}
)
#: Characters of a PW in HJ 212-2017 §6.3.2 (the "PW" row: 6 characters).
STANDARD_PW_LENGTH = 6
#: Longest PW accepted (real loggers send more than the standard's 6).
MAX_PW = 64
#: Possible low bytes of an HJ 212 CRC (the algorithm carries only 8 bits of state).
CRC_LOW_BYTES = frozenset({0x00, 0x01, 0x40, 0x41, 0x80, 0x81, 0xC0, 0xC1})


class Hj212Error(ProtocolError):
    """An HJ 212 packet was rejected; ``reason`` is stable, ``qn_rtn`` is the answer code.

    ``packet`` is what could be decoded despite the error (for the answer's QN/MN and
    for ``tansuan hj212 decode``), or ``None``.
    """

    reason: ClassVar[str] = "syntax"
    qn_rtn: ClassVar[int] = 100

    def __init__(self, message: str, *, packet: Packet | None = None) -> None:
        super().__init__(message, field=None)
        self.packet = packet


class MalformedPacket(Hj212Error):
    reason = "syntax"


class LengthError(Hj212Error):
    reason = "length"


class PacketTooLong(Hj212Error):
    reason = "too_long"


class CrcError(Hj212Error):
    reason = "crc"
    qn_rtn = 9


class QnError(Hj212Error):
    reason = "qn"
    qn_rtn = 7


class StError(Hj212Error):
    reason = "st"
    qn_rtn = 5


class CnError(Hj212Error):
    reason = "cn"
    qn_rtn = 8


class FlagError(Hj212Error):
    reason = "flag"
    qn_rtn = 6


class PasswordError(Hj212Error):
    reason = "password"
    qn_rtn = 3


class MnError(Hj212Error):
    reason = "mn"
    qn_rtn = 4


class DataTimeError(Hj212Error):
    reason = "datatime"


class FutureDataTime(DataTimeError):
    """DataTime beyond the host's clock: the value cannot have been measured yet."""

    reason = "datatime_future"


class AmbiguousPacket(MalformedPacket):
    """The same field, code or DataTime given twice: which value is meant is unknowable."""

    reason = "duplicate"


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """HJ 212-2017 Appendix A "ANSI CRC16" of ``data``.

    Per byte: ``reg = (reg >> 8) XOR byte``, then eight right shifts XOR-ing 0xA001
    whenever a 1 falls out; start 0xFFFF. Because the byte goes into the register's
    *shifted* value, each step reduces to ``reg = T[(reg >> 8) ^ byte]`` with the
    reflected-0xA001 table T. It is **not** CRC-16/MODBUS.

    >>> f"{crc16(b'123456789'):04X}"
    '2F80'
    """
    reg = 0xFFFF
    table = _TABLE
    for byte in data:
        reg = table[(reg >> 8) ^ byte]
    return reg


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS, only to tell a field engineer that a device used it by mistake."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ _TABLE[(reg ^ byte) & 0xFF]
    return reg


@dataclass(frozen=True)
class Cp:
    """The data area ``CP=&&…&&``.

    ``values`` maps a code (``a05001``, ``SB1``) to its fields (``Rtd``, ``Avg``,
    ``Flag``, ``RS`` …) as sent (text). ``params`` holds items without a ``-`` other
    than DataTime (``QnRtn``, ``RtdInterval``, ``SystemTime`` …).

    ``groups`` holds what follows each ``PolId=…`` (HJ 212-2017 CN=3020 on-site
    information, 1011/1013 requests): one :class:`Cp` per pollutant, in the order sent,
    with the codes and parameters given after that ``PolId`` and before the next — the
    same field codes (``i12001-Info`` …) under each pollutant are that pollutant's own.
    """

    data_time: str | None = None
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, Cp] = field(default_factory=dict)

    @property
    def status(self) -> dict[str, dict[str, str]]:
        """Equipment status (``SBxxx-RS`` running state, ``SBxxx-RT`` running hours)."""
        return {
            code: {k: v for k, v in fields.items() if k in ("RS", "RT")}
            for code, fields in self.values.items()
            if "RS" in fields or "RT" in fields
        }


@dataclass(frozen=True)
class Packet:
    """One decoded packet. ``length_*`` are [bytes]; ``crc_*`` are 16-bit integers."""

    st: str
    cn: str
    cp: Cp
    qn: str | None = None
    pw: str | None = None
    mn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    length_declared: int = 0
    length_actual: int = 0
    crc_declared: int | None = None
    crc_computed: int = 0

    @property
    def version(self) -> int:
        """Protocol version bits V5…V0 (0 = HJ/T 212-2005, 1 = HJ 212-2017)."""
        return (self.flag or 0) >> 2

    @property
    def wants_ack(self) -> bool:
        """Flag bit A: the device waits for an answer."""
        return bool((self.flag or 0) & FLAG_ACK)

    @property
    def is_split(self) -> bool:
        """Flag bit D: one part of a split message (PNUM/PNO present)."""
        return bool((self.flag or 0) & FLAG_SPLIT)

    @property
    def crc_ok(self) -> bool:
        return self.crc_declared == self.crc_computed

    @property
    def length_ok(self) -> bool:
        return self.length_declared == self.length_actual

    @property
    def warnings(self) -> tuple[str, ...]:
        """What was accepted although HJ 212-2017 writes it otherwise (logged by the
        gateway, printed by ``tansuan hj212 decode``)."""
        if self.pw is not None and len(self.pw) != STANDARD_PW_LENGTH:
            n, std = len(self.pw), STANDARD_PW_LENGTH
            return (
                f"PW 为 {n} 个字符，HJ 212-2017 规定 {std} 个（按现场设备的实际发送接受）/ "
                f"PW has {n} characters, not the {std} of HJ 212-2017 (accepted as real "
                "loggers send it)",
            )
        return ()


_QN = re.compile(r"^[0-9]{1,20}$")
_ST = re.compile(r"^[A-Za-z0-9]{1,5}$")
_CN = re.compile(r"^[0-9]{4}$")
_MN = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
#: PW as real loggers send it: printable ASCII up to :data:`MAX_PW` characters (one
#: logger's PW is the 24-character ``BF470F88957588DE902D1A52``); ``;`` ends the field.
_PW = re.compile(rf"^[\x21-\x3a\x3c-\x7e]{{0,{MAX_PW}}}$")
HEX4 = re.compile(rb"^[0-9A-Fa-f]{4}$")
_HEADER_KEYS = {k.lower(): k for k in ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")}


def parse_cp(body: str) -> Cp:
    """Parse the text between ``CP=&&`` and the closing ``&&``.

    An ambiguous data area is refused (:class:`AmbiguousPacket`), never resolved by
    letting the last value win: a field given twice in one item
    (``a05001-Avg=1,a05001-Avg=9``), the same code in two items, ``DataTime`` twice, or a
    parameter (``RtdInterval`` …) twice. ``PolId=…`` opens a group (:attr:`Cp.groups`):
    the codes and parameters after it, up to the next ``PolId``, are that pollutant's,
    so ``PolId=w01018;i12001-Info=1;PolId=w21003;i12001-Info=2`` is two groups, not a
    code given twice; the same PolId twice is ambiguous.
    """
    data_time: str | None = None
    top = _CpBuilder()
    groups: dict[str, _CpBuilder] = {}
    current = top
    for item in body.split(";"):
        if not item or item.isspace():
            continue
        item_codes: set[str] = set()
        for pair in item.split(","):
            key, sep, value = pair.partition("=")
            if " " in pair:
                key, value = key.strip(), value.strip()
            if not sep or not key:
                raise MalformedPacket(f"CP item {pair[:40]!r} is not key=value")
            if key == "DataTime":
                if data_time is not None:
                    raise AmbiguousPacket("DataTime is given twice")
                data_time = value
                continue
            if key == "PolId":
                if value in groups:
                    raise AmbiguousPacket(f"PolId={value[:20]!r} is given twice")
                current = groups[value] = _CpBuilder()
                item_codes = set()
                continue
            current.add(key, value, item_codes)
    return Cp(
        data_time=data_time,
        values=top.values,
        params=top.params,
        groups={pol: Cp(values=g.values, params=g.params) for pol, g in groups.items()},
    )


class _CpBuilder:
    """The codes and parameters of one CP (or of one PolId group), ambiguity refused."""

    __slots__ = ("params", "values")

    def __init__(self) -> None:
        self.values: dict[str, dict[str, str]] = {}
        self.params: dict[str, str] = {}

    def add(self, key: str, value: str, item_codes: set[str]) -> None:
        code, dash, suffix = key.rpartition("-")
        if dash and code and suffix:
            fields = self.values.get(code)
            if fields is None:
                fields = self.values[code] = {}
            elif code not in item_codes:
                raise AmbiguousPacket(f"code {code[:20]!r} appears in two CP items")
            item_codes.add(code)
            if suffix in fields:
                raise AmbiguousPacket(f"{key[:40]!r} is given twice")
            fields[suffix] = value
        else:
            if key in self.params:
                raise AmbiguousPacket(f"{key[:40]!r} is given twice")
            self.params[key] = value


def merge_cp(parts: Sequence[Cp]) -> Cp:
    """One CP from the parts of a split message; ambiguity is refused as in one packet.

    DataTime comes from the parts that carry it (they must agree); a code's fields may
    be spread over parts, but one field of one code in two parts is
    :class:`AmbiguousPacket`, as is a parameter in two parts. A PolId group may go on
    in the next part under the same rule.
    """
    times = {p.data_time for p in parts if p.data_time}
    if len(times) > 1:
        raise AmbiguousPacket(f"the parts give {len(times)} different DataTimes")
    values, params = _merge_areas(parts)
    by_pol: dict[str, list[Cp]] = {}
    for part in parts:
        for pol, group in part.groups.items():
            by_pol.setdefault(pol, []).append(group)
    groups = {}
    for pol, pieces in by_pol.items():
        group_values, group_params = _merge_areas(pieces)
        groups[pol] = Cp(values=group_values, params=group_params)
    return Cp(data_time=next(iter(times), None), values=values, params=params, groups=groups)


def _merge_areas(parts: Sequence[Cp]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    params: dict[str, str] = {}
    for part in parts:
        for code, fields in part.values.items():
            merged = values.setdefault(code, {})
            for name, value in fields.items():
                if name in merged:
                    raise AmbiguousPacket(f"'{code[:20]}-{name[:20]}' is given in two parts")
                merged[name] = value
        for key, value in part.params.items():
            if key in params:
                raise AmbiguousPacket(f"{key[:40]!r} is given in two parts")
            params[key] = value
    return values, params


def _parse_int(text: str, error: type[Hj212Error], name: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise error(f"{name}={text[:20]!r} is not an integer in {low}…{high}")
    return int(text)


def parse_segment(segment: str, **meta: Any) -> Packet:
    """Parse a data segment (``QN=…;…;CP=&&…&&``); ``meta`` fills length/CRC fields."""
    start = segment.find("CP=&&")
    if start < 0 or not segment.endswith("&&") or len(segment) < start + 7:
        raise MalformedPacket("no CP=&&…&& data area at the end of the data segment")
    head = segment[:start]
    if head and not head.endswith(";"):
        raise MalformedPacket("the field before CP is not ended by ';'")
    fields: dict[str, str] = {}
    for part in head.split(";")[:-1]:
        key, sep, value = part.partition("=")
        name = _HEADER_KEYS.get(key.strip().lower())
        if not sep or name is None:
            raise MalformedPacket(f"unknown header field {part[:30]!r}")
        if name in fields:
            raise MalformedPacket(f"header field {name} repeats")
        fields[name] = value.strip()
    qn = fields.get("QN") or None
    if qn is not None and not _QN.fullmatch(qn):
        raise QnError(f"QN={qn[:24]!r} is not up to 20 digits")
    st = fields.get("ST")
    if st is None or not _ST.fullmatch(st):
        raise StError(f"ST={st!r} is missing or malformed")
    cn = fields.get("CN")
    if cn is None or not _CN.fullmatch(cn):
        raise CnError(f"CN={cn!r} is missing or not 4 digits")
    mn = fields.get("MN")
    if mn is not None and not _MN.fullmatch(mn):
        raise MnError(f"MN={mn[:40]!r} is malformed")
    pw = fields.get("PW")
    if pw is not None and not _PW.fullmatch(pw):
        raise PasswordError(
            f"PW is not up to {MAX_PW} printable ASCII characters (got {len(pw)} characters)"
        )
    flag = _parse_int(fields["Flag"], FlagError, "Flag", 0, 255) if "Flag" in fields else None
    pnum = _parse_int(fields["PNUM"], FlagError, "PNUM", 1, 9999) if "PNUM" in fields else None
    pno = _parse_int(fields["PNO"], FlagError, "PNO", 1, 9999) if "PNO" in fields else None
    if flag is not None and flag & FLAG_SPLIT:
        if pnum is None or pno is None:
            raise FlagError("Flag bit D is set but PNUM/PNO are missing")
        if pno > pnum:
            raise FlagError(f"PNO={pno} is beyond PNUM={pnum}")
    cp = parse_cp(segment[start + 5 : -2])
    return Packet(st=st, cn=cn, cp=cp, qn=qn, pw=pw, mn=mn, flag=flag, pnum=pnum, pno=pno, **meta)


def decode(raw: bytes | str, *, verify: bool = True) -> Packet:
    """Decode one whole packet (``##`` … CRC, optional trailing whitespace).

    With ``verify`` (the default) a wrong length raises :class:`LengthError` and a
    wrong CRC :class:`CrcError`, each carrying the packet as far as it decoded; with
    ``verify=False`` the packet is returned and ``crc_ok``/``length_ok`` tell.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    data = data.strip(b" \t\r\n\x00")
    if not data.startswith(HEADER):
        raise MalformedPacket("a packet starts with '##'")
    if len(data) < 10:
        raise LengthError(f"{len(data)} bytes is too short for a packet")
    length_text = data[2:6]
    if not length_text.isdigit():
        raise LengthError(f"length {length_text!r} is not 4 decimal digits")
    declared = int(length_text)
    segment_bytes = data[6:-4]
    crc_text = data[-4:]
    if len(segment_bytes) > MAX_SEGMENT:
        raise PacketTooLong(f"data segment of {len(segment_bytes)} bytes exceeds {MAX_SEGMENT}")
    computed = crc16(segment_bytes)
    crc_declared = int(crc_text, 16) if HEX4.match(crc_text) else None
    meta = {
        "length_declared": declared,
        "length_actual": len(segment_bytes),
        "crc_declared": crc_declared,
        "crc_computed": computed,
    }
    packet: Packet | None = None
    parse_error: Hj212Error | None = None
    try:
        packet = parse_segment(segment_bytes.decode("utf-8"), **meta)
    except UnicodeDecodeError:
        parse_error = MalformedPacket("data segment is not UTF-8 text")
    except Hj212Error as error:
        parse_error = error
    if verify or packet is None:
        if declared != len(segment_bytes):
            raise LengthError(
                f"declared length {declared:04d} but the data segment has "
                f"{len(segment_bytes)} bytes",
                packet=packet,
            )
        if crc_declared is None:
            raise CrcError(f"CRC {crc_text!r} is not 4 hex digits", packet=packet)
        if crc_declared != computed:
            raise CrcError(crc_message(crc_declared, computed, segment_bytes), packet=packet)
    if parse_error is not None:
        raise parse_error
    assert packet is not None
    return packet


def data_segment(raw: bytes) -> bytes:
    """The data segment of a whole packet, cut as :func:`decode` cuts it."""
    return raw.strip(b" \t\r\n\x00")[6:-4]


def crc_modbus_used(declared: int | None, segment: bytes) -> bool:
    """True when a wrong CRC is the segment's CRC-16/MODBUS (a device's common mistake)."""
    return declared is not None and declared != crc16(segment) and declared == crc16_modbus(segment)


def crc_message(declared: int, computed: int, segment: bytes) -> str:
    """Why a CRC is wrong, naming CRC-16/MODBUS when the device computed that instead."""
    message = f"CRC {declared:04X} declared, {computed:04X} computed over the data segment"
    if crc_modbus_used(declared, segment):
        message += " (the device computed CRC-16/MODBUS, not HJ 212-2017 Appendix A)"
    elif declared & 0xFF not in CRC_LOW_BYTES:
        message += f" ({declared:04X} cannot be an HJ 212 Appendix A CRC at all)"
    return message


def salvage(frame: bytes) -> dict[str, str]:
    """QN, MN and PW found anywhere in a frame that did not decode (for the answer)."""
    found: dict[str, str] = {}
    for name, pattern in (("qn", rb"QN=(\d{1,20});"), ("mn", rb"MN=([\w\-]{1,32});")):
        match = re.search(pattern, frame)
        if match:
            found[name] = match.group(1).decode("ascii")
    match = re.search(rb"PW=([\x21-\x3a\x3c-\x7e]{0,%d});" % MAX_PW, frame)
    if match:
        found["pw"] = match.group(1).decode("ascii")
    return found


_PEEK_QN = re.compile(rb"(?:^|;)QN=(\d{1,20});")
_PEEK_FLAG = re.compile(rb"(?:^|;)Flag=(\d{1,3});")


def peek(raw: bytes) -> tuple[str | None, int | None]:
    """QN and Flag of a packet without decoding or checking it (for a sender)."""
    head = raw[6 : raw.find(b"CP=&&")]
    qn = _PEEK_QN.search(head)
    flag = _PEEK_FLAG.search(head)
    return (
        qn.group(1).decode() if qn else None,
        int(flag.group(1)) if flag else None,
    )


# --- building ---------------------------------------------------------------------------


def make_qn(when: dt.datetime) -> str:
    """A QN (request id) from a local time: ``YYYYMMDDhhmmsszzz`` [ms]."""
    return when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"


def format_cp(
    data_time: str | None = None,
    values: Mapping[str, Mapping[str, object]] | None = None,
    params: Mapping[str, object] | None = None,
) -> str:
    """The CP body: params, then DataTime, then one ``;``-item per code."""
    items = [f"{k}={v}" for k, v in (params or {}).items()]
    if data_time is not None:
        items.append(f"DataTime={data_time}")
    for code, fields in (values or {}).items():
        items.append(",".join(f"{code}-{name}={value}" for name, value in fields.items()))
    return ";".join(items)


def build_segment(
    *,
    cn: str,
    cp: str = "",
    st: str = "31",
    qn: str | None = None,
    pw: str | None = None,
    mn: str | None = None,
    flag: int | None = FLAG_2017 | FLAG_ACK,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    """A data segment; fields that are ``None`` are left out."""
    parts = [
        f"{name}={value}"
        for name, value in (
            ("QN", qn),
            ("ST", st),
            ("CN", cn),
            ("PW", pw),
            ("MN", mn),
            ("Flag", flag),
            ("PNUM", pnum),
            ("PNO", pno),
        )
        if value is not None
    ]
    return ";".join([*parts, f"CP=&&{cp}&&"])


def frame(segment: str, *, lowercase: bool = False, terminator: str = "\r\n") -> bytes:
    """Wrap a data segment: ``##`` + length + segment + CRC + terminator."""
    body = segment.encode("utf-8")
    if len(body) > MAX_SEGMENT:
        raise PacketTooLong(f"data segment of {len(body)} bytes exceeds {MAX_SEGMENT}")
    crc = f"{crc16(body):04x}" if lowercase else f"{crc16(body):04X}"
    return b"##" + f"{len(body):04d}".encode() + body + crc.encode() + terminator.encode()


def build(**fields: Any) -> bytes:
    """A whole packet from :func:`build_segment`'s keyword arguments."""
    return frame(build_segment(**fields))


def answer(request: Packet | Mapping[str, str | None], cn: str, cp: str = "") -> bytes:
    """An answer packet (ST=91) echoing the request's QN, PW and MN, asking for no ack."""
    if isinstance(request, Packet):
        qn, pw, mn = request.qn, request.pw, request.mn
    else:
        qn, pw, mn = request.get("qn"), request.get("pw"), request.get("mn")
    return build(cn=cn, cp=cp, st="91", qn=qn, pw=pw, mn=mn, flag=FLAG_2017)


# --- JSON -------------------------------------------------------------------------------


#: Matched against the whole text (``fullmatch``): ASCII digits, an optional sign, point
#: and exponent — no whitespace, line end, ``_``, ``nan`` or ``inf``, all of which
#: ``float()`` would accept.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


def parse_number(text: str) -> float | None:
    """An HJ 212 number (``N14.2``: optional sign and decimal point) or None.

    >>> parse_number("-12.50"), parse_number("1_000"), parse_number("nan"), parse_number("12\\n")
    (-12.5, None, None, None)
    """
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _json_value(name: str, value: str) -> object:
    if name in NUMERIC_FIELDS:
        number = parse_number(value)
        if number is None:
            return value
        if number.is_integer() and value.lstrip("+-").isdigit():
            return int(number)
        return number
    return value


def _json_values(values: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    return {
        code: {name: _json_value(name, value) for name, value in fields.items()}
        for code, fields in values.items()
    }


def to_json(packet: Packet, *, modbus_crc: bool = False) -> dict[str, Any]:
    """The packet as plain data (the layout ``tansuan hj212 decode`` prints).

    ``cp.groups`` (only when the CP has ``PolId`` groups) maps each PolId to its own
    ``values`` and parameters; ``warnings`` (only when there are some) lists what was
    accepted although non-standard; with ``modbus_crc`` the wrong CRC is named
    (``crc.algorithm`` ``CRC-16/MODBUS``).
    """
    flag = packet.flag
    cp: dict[str, Any] = {"DataTime": packet.cp.data_time, "values": _json_values(packet.cp.values)}
    cp.update(packet.cp.params)
    if packet.cp.groups:
        cp["groups"] = {
            pol: {"values": _json_values(group.values), **group.params}
            for pol, group in packet.cp.groups.items()
        }
    crc: dict[str, Any] = {
        "declared": None if packet.crc_declared is None else f"{packet.crc_declared:04X}",
        "computed": f"{packet.crc_computed:04X}",
        "ok": packet.crc_ok,
    }
    if modbus_crc:
        crc["algorithm"] = "CRC-16/MODBUS"
    data: dict[str, Any] = {
        "qn": packet.qn,
        "st": packet.st,
        "cn": packet.cn,
        "pw": packet.pw,
        "mn": packet.mn,
        "flag": {
            "version": None if flag is None else flag >> 2,
            "d": packet.is_split,
            "a": packet.wants_ack,
        },
        "pnum": packet.pnum,
        "pno": packet.pno,
        "cp": cp,
        "crc": crc,
    }
    if packet.warnings:
        data["warnings"] = list(packet.warnings)
    return data
