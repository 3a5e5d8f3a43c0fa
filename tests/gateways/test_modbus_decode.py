"""Register decoding and read planning (tansuan.gateways.modbus): pure functions.

Expected register contents are IEEE 754 / two's complement worked by hand:
230.0 = 1.796875 × 2**7 → sign 0, exponent 127+7 = 0x86, mantissa 0x660000 → 0x43660000;
1.5 (float64) = 0x3FF8000000000000; 0x12345678 = 305,419,896; 0xFFFFFFFE as int32 = -2.
"""

from __future__ import annotations

import pytest

from tansuan.gateways.modbus import RegisterPoint, decode_registers, plan_blocks, wrap_value
from tansuan.site.model import ModbusAddress, Point, PointKind


@pytest.mark.parametrize(
    ("registers", "word_order", "byte_order"),
    [
        ([0x4366, 0x0000], "big", "big"),  # ABCD
        ([0x0000, 0x4366], "little", "big"),  # CDAB
        ([0x6643, 0x0000], "big", "little"),  # BADC
        ([0x0000, 0x6643], "little", "little"),  # DCBA
    ],
)
def test_float32_in_all_four_orders(registers: list[int], word_order: str, byte_order: str) -> None:
    assert decode_registers(registers, "float32", word_order, byte_order) == 230.0


@pytest.mark.parametrize(
    ("registers", "word_order", "byte_order"),
    [
        ([0x1234, 0x5678], "big", "big"),
        ([0x5678, 0x1234], "little", "big"),
        ([0x3412, 0x7856], "big", "little"),
        ([0x7856, 0x3412], "little", "little"),
    ],
)
def test_uint32_in_all_four_orders(registers: list[int], word_order: str, byte_order: str) -> None:
    assert decode_registers(registers, "uint32", word_order, byte_order) == 305_419_896


def test_integer_types_and_float64() -> None:
    assert decode_registers([0xFFFE], "int16") == -2
    assert decode_registers([0xFFFE], "uint16") == 65_534
    assert decode_registers([0xFFFF, 0xFFFE], "int32") == -2
    assert decode_registers([0xFFFF, 0xFFFF], "uint32") == 4_294_967_295
    assert decode_registers([0x3FF8, 0, 0, 0], "float64") == 1.5
    assert decode_registers([0, 0, 0, 0x3FF8], "float64", word_order="little") == 1.5


def test_wrong_register_count_is_refused() -> None:
    with pytest.raises(ValueError, match="float32 needs 2 register"):
        decode_registers([1], "float32")


def rp(register: int, data_type: str = "float32", function: str = "holding") -> RegisterPoint:
    address = ModbusAddress.model_validate(
        {"connection": "m", "register": register, "data_type": data_type, "function": function}
    )
    return RegisterPoint("s", f"p{register}{function}", address, PointKind.instantaneous)


def test_contiguous_registers_are_read_together_gaps_never() -> None:
    blocks = plan_blocks(
        [rp(4), rp(0), rp(2), rp(10, "uint16"), rp(100, "uint32"), rp(0, "int16", "input")]
    )
    assert [(b.function, b.start, b.count) for b in blocks] == [
        ("holding", 0, 6),
        ("holding", 10, 1),
        ("holding", 100, 2),
        ("input", 0, 1),
    ]
    assert [p.start for p in blocks[0].points] == [0, 2, 4]


def test_overlapping_points_share_a_block_and_125_registers_is_the_limit() -> None:
    (block,) = plan_blocks([rp(0, "float64"), rp(2, "uint16")])
    assert (block.start, block.count) == (0, 4)
    points = [rp(i) for i in range(0, 130, 2)]  # 65 float32 = 130 registers
    assert [(b.start, b.count) for b in plan_blocks(points)] == [(0, 124), (124, 6)]


def test_scale_and_offset() -> None:
    """-125 × 0.1 + 2 = -10.5."""
    address = ModbusAddress.model_validate(
        {"connection": "m", "register": 0, "data_type": "int16", "scale": 0.1, "offset": 2}
    )
    point = RegisterPoint("s", "t", address, PointKind.instantaneous)
    assert point.value([0x10000 - 125]) == pytest.approx(-10.5)


def test_counter_wrap_value() -> None:
    """A uint32 counter of 0.01 kWh per count wraps at 2**32 × 0.01 = 42,949,672.96 kWh;
    an explicit rollover wins; an instantaneous point has none."""
    address = ModbusAddress.model_validate(
        {"connection": "m", "register": 0, "data_type": "uint32", "scale": 0.01}
    )
    counter = Point(id="e", quantity="energy", unit="kWh", kind=PointKind.total_increasing)
    assert wrap_value(counter, address) == pytest.approx(42_949_672.96)
    explicit = counter.model_copy(update={"rollover": 99_999_999.0})
    assert wrap_value(explicit, address) == 99_999_999.0
    assert wrap_value(Point(id="p", quantity="power", unit="kW"), address) is None
