"""Site-model validation reports every problem with its path in the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.errors import ValidationFailed
from tansuan.site.validate import check, load


def test_example_site_model_is_valid(examples: Path) -> None:
    model = load(examples / "site.yaml")
    site = model.site("demo-site")
    assert site.timezone == "Asia/Shanghai"
    assert "stack-1.co2" in site.points()


def test_every_problem_is_reported_with_its_path(examples: Path) -> None:
    doc = yaml.safe_load((examples / "site.yaml").read_text(encoding="utf-8"))
    site = doc["organisation"]["companies"][0]["sites"][0]
    site["areas"][0]["devices"][0]["points"][1]["id"] = "fan-001.power"  # duplicate
    site["sources"][0]["activity"] = [{"series": "no-such-series"}]
    site["areas"][0]["devices"][0]["points"][1]["protocol"]["modbus"]["connection"] = "stack-logger"
    _, issues = check(doc)
    by_code = {issue.code: issue.path for issue in issues}
    base = "organisation.companies[0].sites[0]"
    assert by_code["duplicate.point"] == f"{base}.areas[0].devices[0].points[1].id"
    assert by_code["unknown.series"] == f"{base}.sources[0].activity[0].series"
    assert by_code["mismatch.protocol"].endswith("points[1].protocol.modbus.connection")


def test_schema_errors_carry_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organisation:\n  id: g\n  companies:\n    - id: c\n      sites:\n"
        "        - id: s\n          timezone: Mars/Olympus\n"
        "          areas: [{id: a, devices: [{id: d, class: fan, points: "
        "[{id: p, quantity: power, unit: bananas}]}]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        load(bad)
    paths = {issue.path for issue in caught.value.issues}
    assert "organisation.companies[0].sites[0].timezone" in paths
    assert "organisation.companies[0].sites[0].areas[0].devices[0].points[0].unit" in paths


def test_cli_validate_exit_codes(examples: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["site", "validate", str(examples / "site.yaml")])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("organisation: [\n", encoding="utf-8")
    result = runner.invoke(app, ["site", "validate", str(broken)])
    assert result.exit_code == 1
    assert "line" in result.output
