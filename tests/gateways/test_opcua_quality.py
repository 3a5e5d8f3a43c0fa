"""OPC UA status codes → HJ 212 data flags (tansuan.gateways.opcua.quality_of)."""

from __future__ import annotations

import pytest
from asyncua import ua

from tansuan.gateways.opcua import quality_of


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (ua.StatusCodes.Good, "N"),
        (ua.StatusCodes.BadNoCommunication, "B"),
        (ua.StatusCodes.BadNotConnected, "B"),
        (ua.StatusCodes.BadCommunicationError, "B"),
        (ua.StatusCodes.BadSensorFailure, "D"),
        (ua.StatusCodes.UncertainLastUsableValue, "D"),
    ],
)
def test_status_to_flag(status: int, flag: str) -> None:
    assert quality_of(ua.StatusCode(status)) == flag


def test_missing_status_is_good() -> None:
    assert quality_of(None) == "N"
