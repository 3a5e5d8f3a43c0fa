"""Decoding JSON and CSV batches into columns (row errors found by the parser)."""

from __future__ import annotations

import orjson
import pytest

from tansuan.errors import InputError
from tansuan.ingest.columns import from_csv, from_json

T = 1_793_491_200  # 2026-11-01T00:00:00Z [s]


def test_columnar_json_with_mixed_timestamps() -> None:
    cols = from_json(
        orjson.dumps(
            {
                "site": "s",
                "point": ["a", "b", "c", "d"],
                "ts": [T, "2026-11-01T08:00:00+08:00", "yesterday", None],
                "value": [1, "2.5", None, 4],
                "quality": ["N", None, "D", "N"],
            }
        )
    )
    assert cols.ts_us[:2].tolist() == [T * 1_000_000, T * 1_000_000]
    assert cols.quality == ["N", "N", "D", "N"]
    assert [(e.index, e.code) for e in cols.errors] == [(2, "bad_timestamp"), (3, "bad_timestamp")]
    assert cols.value[1] == 2.5


def test_rows_json_and_bare_list() -> None:
    rows = [{"site": "s", "point": "a", "ts": T, "value": 1}, {"site": "s", "point": "a"}]
    for body in (rows, {"readings": rows}):
        cols = from_json(orjson.dumps(body))
        assert cols.point[0] == "a" and cols.ts_us[0] == T * 1_000_000
        assert [(e.index, e.code) for e in cols.errors] == [(1, "bad_row")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"site": "s", "point": ["a"], "ts": [T, T], "value": [1]}, "ts"),
        ({"site": "s", "point": "a", "ts": [T], "value": [1]}, "point"),
        ({"point": ["a"], "ts": [T], "value": [1]}, "site"),
        ({"site": "s", "point": ["a"], "ts": [T], "value": [1], "unit": ["kW", "kW"]}, "unit"),
    ],
)
def test_malformed_columnar_json_names_the_field(body: dict, field: str) -> None:
    with pytest.raises(InputError) as caught:
        from_json(orjson.dumps(body))
    assert caught.value.field == field


def test_csv_with_bom_and_short_rows() -> None:
    body = "\ufeffsite,point,ts,value\ns,a,2026-11-01T00:00:00Z,1\ns,a\n\ns,b,1793491260,x\n"
    cols = from_csv(body.encode())
    assert cols.point == ["a", "", "b"]
    assert [(e.index, e.code) for e in cols.errors] == [(1, "bad_row"), (2, "bad_value")]
    assert cols.ts_us[2] == (T + 60) * 1_000_000
    with pytest.raises(InputError, match="UTF-8"):
        from_csv(b"site,point,ts,value\n\xff\xfe")
