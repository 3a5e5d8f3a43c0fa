"""`tansuan gateway …` commands: help, and clear errors before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings

from .test_mqtt_crash import SITE_YAML


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE_YAML)
    return path


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANSUAN_GATEWAY_SINK", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_every_gateway_command_has_help() -> None:
    result = CliRunner().invoke(app, ["gateway", "--help"])
    assert result.exit_code == 0
    for name in ("mqtt", "modbus", "opcua"):
        assert name in result.output


def test_a_bad_sink_setting_is_a_config_error(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANSUAN_GATEWAY_SINK", "no.such.module:factory")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["gateway", "modbus", "--site-model", str(site)])
    assert result.exit_code == 2
    assert "cannot import 'no.such.module:factory'" in result.output


def test_an_invalid_site_model_is_reported_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE_YAML.replace("unit: kW", "unit: bananas"))
    result = CliRunner().invoke(app, ["gateway", "opcua", "--site-model", str(bad)])
    assert result.exit_code == 2
    assert "错误 / error" in result.output
