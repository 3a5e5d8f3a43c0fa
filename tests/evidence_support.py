"""Shared by the evidence tests: the test site with an emission source, and small files
of each accepted type.

``PDF_BYTES`` is the 8 bytes ``%PDF-1.7`` plus the 6 bytes ``\\n%%EOF`` = 14 bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.conftest import DEFAULT_POINTS, site_document

PDF_BYTES = b"%PDF-1.7\n%%EOF"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 12
#: 2026-11-18 02:30 UTC (10:30 in Shanghai, the frozen test "now") in epoch µs:
#: 20 775 days × 86 400 s + 2.5 h × 3 600 s = 1 794 960 000 + 9 000 = 1 794 969 000 s.
AT = dt.datetime(2026, 11, 18, 2, 30, tzinfo=dt.UTC)
AT_US = 1_794_969_000_000_000


class Clock:
    """A ledger clock that advances one second per call (no real clock in tests)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def xlsx_bytes(*, with_xl: bool = True) -> bytes:
    """A minimal workbook archive: ``[Content_Types].xml`` and (optionally) ``xl/…``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml" if with_xl else "word/document.xml", "<workbook/>")
    return buffer.getvalue()


def site_document_with_source() -> dict:
    """The test site (tests/conftest.py) with one emission source, 'boiler', burning the
    'coal' series."""
    document = site_document(DEFAULT_POINTS)
    site = document["organisation"]["companies"][0]["sites"][0]
    site["sources"] = [
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "raw_coal",
            "activity": [{"series": "coal"}],
            "parameters": {"ncv": {"series": "coal-ncv"}},
        }
    ]
    return document


def open_site_store(url: str) -> Store:
    """A store at ``url`` with :func:`site_document_with_source` loaded."""
    opened = Store(url)
    opened.load_model(SiteModel.model_validate(site_document_with_source()), source="test")
    return opened
