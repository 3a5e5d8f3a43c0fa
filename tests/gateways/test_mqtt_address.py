"""Broker URLs (tansuan.gateways.mqtt.BrokerAddress)."""

from __future__ import annotations

import pytest

from tansuan.errors import ConfigError
from tansuan.gateways.mqtt import BrokerAddress


def test_plain_tls_and_credentials() -> None:
    assert BrokerAddress.parse("mqtt://broker") == BrokerAddress("broker", 1883)
    assert BrokerAddress.parse("mqtts://broker") == BrokerAddress("broker", 8883, tls=True)
    assert BrokerAddress.parse("mqtt://gw:p%40ss@10.0.0.5:1884") == BrokerAddress(
        "10.0.0.5", 1884, False, "gw", "p@ss"
    )


@pytest.mark.parametrize("url", ["http://broker", "broker:1883", "mqtt://", "mqtt://h:99999"])
def test_bad_urls_name_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BrokerAddress.parse(url)
    assert caught.value.field == "mqtt_url"
