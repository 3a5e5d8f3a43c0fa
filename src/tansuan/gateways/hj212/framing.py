"""Cutting a TCP byte stream into HJ 212 packets (``##`` … CRC), with resync on garbage."""

from __future__ import annotations

import re

from tansuan.gateways.hj212.codec import (
    HEADER,
    HEX4,
    MAX_SEGMENT,
    Hj212Error,
    LengthError,
    PacketTooLong,
)

_WHITESPACE = b" \t\r\n\x00"
#: The start of a packet: ``##`` and a 4-digit length.
_PACKET_START = re.compile(rb"##[0-9]{4}")


class Framer:
    """Cuts a TCP byte stream into packets, resyncing on garbage at the next ``##``.

    A frame is taken by its declared length when the segment then ends with ``&&``
    followed by 4 hex digits (so devices that send no line end work); otherwise, if a
    line end arrives first, the line — or what precedes the next ``##dddd`` in it — is
    the frame (and :func:`decode` reports the length error). A frame never spans a line
    end or the start of another packet, so a truncated packet cannot swallow the good one
    after it. The buffer never holds
    more than one maximal frame plus one read.
    """

    def __init__(self, max_segment: int = MAX_SEGMENT) -> None:
        self.max_segment = max_segment
        self.max_frame = 6 + max_segment + 4 + 2
        self._buf = bytearray()
        self.garbage_bytes = 0

    @property
    def pending(self) -> bool:
        """True while part of a packet is buffered (for the slow-client deadline)."""
        return bool(self._buf)

    def feed(self, data: bytes) -> list[bytes | Hj212Error]:
        """Add received bytes; return the whole frames (and framing errors) now complete."""
        buf = self._buf
        buf += data
        out: list[bytes | Hj212Error] = []
        while buf:
            start = buf.find(HEADER)
            if start < 0:
                keep = 1 if buf.endswith(b"#") else 0
                self._discard(len(buf) - keep)
                break
            if start:
                self._discard(start)
            if len(buf) < 6:
                break
            length_text = bytes(buf[2:6])
            if not length_text.isdigit():
                out.append(LengthError(f"length {length_text!r} is not 4 decimal digits"))
                # "###0101…" (a stray '#' before a packet): the packet starts one byte on.
                del buf[: 1 if buf[2:3] == b"#" else 2]
                continue
            length = int(length_text)
            if length > self.max_segment:
                out.append(PacketTooLong(f"declared length {length} exceeds {self.max_segment}"))
                del buf[:2]
                continue
            end = 6 + length
            if (
                len(buf) >= end + 4
                and buf[end - 2 : end] == b"&&"
                and HEX4.match(buf[end : end + 4])
                and buf.find(b"\n", 2, end) < 0  # a packet never spans a line end …
                and not _PACKET_START.search(buf, 2, end)  # … nor another packet's start
            ):
                out.append(bytes(buf[: end + 4]))
                del buf[: end + 4]
                continue
            newline = buf.find(b"\n", 2, self.max_frame)
            if newline >= 0:
                # A broken packet ends at the next header if one starts before the line
                # end, so a good packet right after a truncated one is not swallowed.
                start_next = _PACKET_START.search(buf, 2, newline)
                cut = newline + 1 if start_next is None else start_next.start()
                out.append(bytes(buf[:cut]))
                del buf[:cut]
                continue
            if len(buf) >= self.max_frame:
                out.append(PacketTooLong(f"no packet end within {self.max_frame} bytes"))
                del buf[:2]
                continue
            break
        return out

    def _discard(self, count: int) -> None:
        if count <= 0:
            return
        chunk = bytes(self._buf[:count])
        self.garbage_bytes += len(chunk.strip(_WHITESPACE))
        del self._buf[:count]
