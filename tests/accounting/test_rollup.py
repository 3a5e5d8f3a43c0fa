"""Roll-ups: every total equals the sum of its parts exactly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from hypothesis import given
from hypothesis import strategies as st

from tansuan.accounting.rollup import (
    Line,
    rollup,
    tonnes_to_grams,
    within,
)

PATHS = [
    ("g", "c1", "s1", "a1", "d1"),
    ("g", "c1", "s1", "a1", "d2"),
    ("g", "c1", "s1", "a2", "l1", "d3"),
    ("g", "c1", "s2", "a3", "d4"),
    ("g", "c2", "s3", "a4", "d5"),
]

lines_strategy = st.lists(
    st.builds(
        Line,
        source=st.sampled_from(["boiler", "grid", "kiln", "sf6"]),
        period=st.sampled_from(["2025-01", "2025-02"]),
        gas=st.sampled_from(["CO2", "CH4", "N2O", "SF6"]),
        scope=st.sampled_from(["1", "2-location"]),
        source_type=st.sampled_from(["combustion", "electricity", "process"]),
        carrier=st.sampled_from(["raw_coal", "electricity", "limestone"]),
        path=st.sampled_from(PATHS),
        mass_g=st.integers(0, 10**15),
        co2e_g=st.integers(0, 10**15),
    ),
    max_size=60,
)


def rollup_2d(lines: Iterable[Line], first: str, second: str) -> dict[tuple[str, str], int]:
    """Sum ``co2e_g`` by two dimensions (e.g. scope × gas): the test's own second view."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        totals[(str(getattr(line, first)), str(getattr(line, second)))] += line.co2e_g
    return dict(totals)


def children_sum(totals: Mapping[str, int], node: str) -> int:
    """Sum of the totals of ``node``'s direct children (to check a total against)."""
    depth = node.count("/") + 1
    return sum(
        value
        for key, value in totals.items()
        if key.startswith(node + "/") and key.count("/") == depth
    )


@given(lines_strategy)
def test_every_node_total_is_the_sum_of_its_children(lines: list[Line]) -> None:
    totals = rollup(lines, "node")
    for node, total in totals.items():
        if node.count("/") < 4 and any(k.startswith(node + "/") for k in totals):
            assert total == children_sum(totals, node)


@given(lines_strategy)
def test_every_dimension_sums_to_the_same_grand_total(lines: list[Line]) -> None:
    grand = sum(line.co2e_g for line in lines)
    for dimension in ("scope", "gas", "source_type", "carrier", "source", "period"):
        assert sum(rollup(lines, dimension).values()) == grand
    assert sum(rollup_2d(lines, "scope", "gas").values()) == grand
    assert rollup(lines, "node").get("g", 0) == grand


@given(lines_strategy)
def test_subtree_total_matches_node_total(lines: list[Line]) -> None:
    totals = rollup(lines, "node")
    node = ("g", "c1", "s1")
    assert sum(line.co2e_g for line in within(lines, node)) == totals.get("g/c1/s1", 0)


def test_tonnes_round_to_whole_grams() -> None:
    assert tonnes_to_grams(1.0) == 1_000_000
    assert tonnes_to_grams(0.0000015) == 2  # 1.5 g rounds half away from zero
    assert tonnes_to_grams(-0.0000015) == -2
    assert tonnes_to_grams(18_150.0) == 18_150_000_000
