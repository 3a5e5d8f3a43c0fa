"""Validate a site-model document and report every problem with its path in the file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tansuan.errors import InputError, Issue, ValidationFailed
from tansuan.site.model import GapFill, Site, SiteModel

#: Gap-fill styles that make up a value for a month without data (missing is not zero,
#: and not a guess either): refused by validation (docs/accounting.md, "Missing is not zero").
INVENTING_GAP_FILLS = frozenset({GapFill.default, GapFill.previous_average})


def _loc_to_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def check(document: Any) -> tuple[SiteModel | None, list[Issue]]:
    """Validate plain data; return the model (if it parsed) and every issue found."""
    try:
        model = SiteModel.model_validate(document)
    except ValidationError as exc:
        schema_issues = [
            Issue(
                code=f"schema.{err['type']}",
                path=_loc_to_path(p for p in err["loc"] if not str(p).startswith("function-")),
                detail=err["msg"].removeprefix("Value error, "),
            )
            for err in exc.errors()
        ]
        return None, schema_issues
    issues: list[Issue] = []
    site_ids = Counter(site.id for site in model.sites())
    for company_index, company in enumerate(model.organisation.companies):
        for site_index, site in enumerate(company.sites):
            base = f"organisation.companies[{company_index}].sites[{site_index}]"
            if site_ids[site.id] > 1:
                issues.append(Issue("duplicate.site", f"{base}.id", f"site id {site.id!r} repeats"))
            issues.extend(_check_site(site, base))
    return model, issues


def _check_site(site: Site, base: str) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[tuple[str, str], str] = {}

    def claim(kind: str, ident: str, path: str) -> None:
        if (kind, ident) in seen:
            issues.append(
                Issue(
                    f"duplicate.{kind}",
                    path,
                    f"{kind} id {ident!r} already used at {seen[(kind, ident)]}",
                )
            )
        else:
            seen[(kind, ident)] = path

    def walk(areas: tuple[Any, ...], path: str) -> None:
        for a_index, area in enumerate(areas):
            area_path = f"{path}.areas[{a_index}]"
            claim("area", area.id, f"{area_path}.id")
            for d_index, device in enumerate(area.devices):
                device_path = f"{area_path}.devices[{d_index}]"
                claim("device", device.id, f"{device_path}.id")
                for p_index, point in enumerate(device.points):
                    point_path = f"{device_path}.points[{p_index}]"
                    claim("point", point.id, f"{point_path}.id")
                    for proto in ("modbus", "opcua", "hj212"):
                        address = getattr(point.protocol, proto)
                        if address is not None:
                            connections.append(
                                (proto, address.connection, f"{point_path}.protocol.{proto}")
                            )
            walk(area.areas, area_path)

    connections: list[tuple[str, str, str]] = []
    walk(site.areas, base)
    by_id = {}
    for c_index, connection in enumerate(site.connections):
        claim("connection", connection.id, f"{base}.connections[{c_index}].id")
        by_id[connection.id] = connection
    for proto, conn_id, path in connections:
        conn = by_id.get(conn_id)
        if conn is None:
            issues.append(
                Issue(
                    "unknown.connection",
                    f"{path}.connection",
                    f"no connection {conn_id!r} in this site",
                )
            )
        elif conn.protocol != proto:
            issues.append(
                Issue(
                    "mismatch.protocol",
                    f"{path}.connection",
                    f"connection {conn_id!r} speaks {conn.protocol}, not {proto}",
                )
            )
    for s_index, series in enumerate(site.series):
        claim("series", series.id, f"{base}.series[{s_index}].id")
    points = site.points()
    devices = {device.id for _, device in site.iter_devices()}
    series_ids = {series.id for series in site.series}
    source_ids = {source.id for source in site.sources}
    for s_index, source in enumerate(site.sources):
        source_path = f"{base}.sources[{s_index}]"
        claim("source", source.id, f"{source_path}.id")
        if source.device and source.device not in devices:
            issues.append(
                Issue(
                    "unknown.device",
                    f"{source_path}.device",
                    f"no device {source.device!r} in this site",
                )
            )
        if source.cross_check and source.cross_check not in source_ids:
            issues.append(
                Issue(
                    "unknown.source",
                    f"{source_path}.cross_check",
                    f"no source {source.cross_check!r} in this site",
                )
            )
        if source.gap_fill in INVENTING_GAP_FILLS:
            issues.append(
                Issue(
                    "gap_fill.invents_data",
                    f"{source_path}.gap_fill",
                    f"gap_fill {source.gap_fill.value!r} invents data for a month without any: "
                    "use the guideline's rule (cems_conservative, HJ 75), interpolate or none, "
                    "and declare a shutdown where the source did not run / 该填补方式会凭空"
                    "生成数据：请使用指南规定的方法或 none，停运请声明",
                )
            )
        refs = [(f"{source_path}.activity[{i}]", ref) for i, ref in enumerate(source.activity)]
        refs += [(f"{source_path}.parameters.{k}", ref) for k, ref in source.parameters.items()]
        for path, ref in refs:
            if ref.point is not None and ref.point not in points:
                issues.append(
                    Issue("unknown.point", f"{path}.point", f"no point {ref.point!r} in this site")
                )
            if ref.series is not None and ref.series not in series_ids:
                issues.append(
                    Issue(
                        "unknown.series", f"{path}.series", f"no series {ref.series!r} in this site"
                    )
                )
    return issues


def load_document(path: Path) -> Any:
    """Read YAML from ``path``; a YAML syntax error is an :class:`InputError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{path} is not valid YAML{where}") from None


def load(path: Path) -> SiteModel:
    """Read and validate a site-model file; raise :class:`ValidationFailed` with every issue."""
    model, issues = check(load_document(path))
    if issues or model is None:
        raise ValidationFailed(issues, what=str(path))
    return model
