"""Response schemas of the JSON API, so that ``/docs`` shows what each route returns.

The bodies are built by the views (:mod:`tansuan.views`) and the stores as plain data;
these models describe them without changing them: every model keeps fields it does not
name (``extra="allow"``), free-form parts (traces, evidence series, holdings, the
baseline summary) are ``dict[str, Any]``, and numbers are ``int | float`` so that an
integer stays an integer. Routes that return a rendered :class:`JSONBytes` body use the
model for the documentation only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: A JSON number as the view computed it (an int is not turned into a float).
Num = int | float


class Out(BaseModel):
    """A response body: the named fields, and any other the view put in it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Page(Out):
    """A page of a list (:func:`tansuan.web.pagination.page`)."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class Created(Out):
    """The id of what was created."""

    id: int


class Revoked(Out):
    """The id of what was revoked."""

    id: int
    revoked: bool


# --- emissions --------------------------------------------------------------------------


class Group(Out):
    key: str
    co2e_t: Num


class ResultRow(Out):
    """One current result line (a source, month and gas) with its result set's version."""

    site: str
    source: str
    month: str
    result_set: int
    version: int
    method: str
    scope: str
    gas: str
    mass_t: Num
    co2e_t: Num
    grade: str | None
    coverage: Num | None
    substituted_share: Num | None


class EmissionsOut(Out):
    """``GET /emissions``: totals are location-based, Scope 2 market-based beside them."""

    node: str
    period: str
    months: list[str]
    by: str
    total_co2e_t: Num
    groups: list[Group]
    market_based_co2e_t: Num
    results: list[ResultRow]
    traces: dict[str, Any] = Field(description="trace of each result set, by its id")
    provisional: bool = Field(
        False, description="the period is not complete yet: its results can still change"
    )
    provisional_reason: str | None = None


class TraceOut(Out):
    """``GET /results/{id}/trace``: inputs, factors, formula and software version."""

    result_set: int
    site: str
    source: str
    period: str
    version: int
    trace: Any
    evidence: list[EvidenceOut] = Field(
        default_factory=list, description="files attached to this source-month"
    )


# --- insights ---------------------------------------------------------------------------


class FindingOut(Out):
    """A ranked finding valued per year; ``evidence`` and ``flagged_hours`` only when the
    reader may see hourly data."""

    device: str
    kind: str
    waste_kwh: Num
    annual_kwh: Num
    annual_tco2e: Num
    annual_cost: Num
    message: str
    flagged_hours: list[str] | None = None
    start: str | None = None
    evidence: dict[str, Any] | None = None


class FindingsOut(Out):
    site: str
    from_: str = Field(alias="from")
    to: str
    calendar: str
    valuation: dict[str, Any]
    factor_source: str
    findings: list[FindingOut]
    evidence_withheld: bool


class SavingsOut(Out):
    site: str
    node: str
    from_: str = Field(alias="from")
    to: str
    intervention: str
    baseline: dict[str, Any]
    option: str
    adjusted_baseline_kwh: Num
    reporting_kwh: Num
    avoided_kwh: Num
    fraction: Num
    interval_kwh: list[Num]
    fraction_interval: list[Num]
    confidence: Num
    fsu: Num | None
    avoided_tco2e: Num | None
    method: str
    factor_source: str
    verifiable: bool = Field(
        description="the baseline meets ASHRAE Guideline 14 calibration criteria (daily data)"
    )
    failing: list[dict[str, Any]] = Field(description="failed criteria: criterion, value, limit")
    verification: dict[str, Any]
    chart: dict[str, Any] | None = Field(description="withheld under a monthly-only grant")


class EnpiMonth(Out):
    month: str
    kwh: Num
    partial: bool
    output: Num | None
    specific: Num | None


class EnpiNode(Out):
    node: str
    kind: str
    name: str
    output_unit: str | None
    meters: list[str]
    months: list[EnpiMonth]
    normalised: Num | None
    baseline: dict[str, Any] | None
    note: str | None = None
    reporting_kwh: Num | None = None
    expected_kwh: Num | None = None


class EnpiOut(Out):
    site: str
    from_: str = Field(alias="from")
    to: str
    baseline_end: str
    nodes: list[EnpiNode]


class MonthValue(Out):
    month: str
    tco2e: Num


class MonthForecast(Out):
    month: str
    mean: Num
    lower: Num
    upper: Num


class YearTotal(Out):
    year: int
    actual: Num
    forecast: Num
    mean: Num
    sd: Num
    months_actual: int


class ForecastOut(Out):
    site: str
    year: int
    unit: str
    model: str
    level: Num
    drivers: list[str]
    level_shift_from: str | None
    history: list[MonthValue]
    backtest: list[dict[str, Any]]
    forecast: list[MonthForecast]
    year_total: YearTotal | None


class PositionOut(Out):
    site: str
    version: int
    entity: str
    year: int
    emissions_basis: str
    holdings: dict[str, Any]
    rules: dict[str, Any]
    trade_cash: Num
    position: dict[str, Any]
    outlook: dict[str, Any] | None


class AlertOut(Out):
    site: str
    kind: str
    severity: str
    metric: str
    value: Num | None
    limit: Num | None
    unit: str
    zh: str
    en: str
    text: str


class AlertsOut(Out):
    site: str
    year: int
    facts: dict[str, Num | None]
    budget_tce: Num | None
    alerts: list[AlertOut]


class HoldingsSaved(Out):
    """What an imported compliance file changed."""

    entity: str
    year: int
    version: int | None
    trades_added: int
    trades_cancelled: int
    free_allocation_t: Num


class AccountOut(Out):
    """``GET /allowance``: the account's current values, holdings, allocation by unit,
    every trade, and its earlier versions."""

    site: str
    entity: str
    year: int
    version: int
    holdings: dict[str, Any]
    rules: dict[str, Any]
    trade_cash: Num
    trades: list[dict[str, Any]]
    versions: list[dict[str, Any]]


class TradeAdded(AccountOut):
    """The account after a trade was added, and the trade's number."""

    trade_id: int


# --- sites ------------------------------------------------------------------------------


class SiteTree(Out):
    """A site's areas, devices and points (pruned to a grant's subtree)."""

    site: str
    children: list[dict[str, Any]]


class SeriesOut(Out):
    site: str
    point: str
    resolution: str
    from_: str = Field(alias="from")
    to: str
    items: list[dict[str, Any]]


class LiveOut(Out):
    site: str
    device: str
    values: list[dict[str, Any]]


class QualityOut(Out):
    site: str
    day: str | None
    points: Page | list[dict[str, Any]]
    sources: list[dict[str, Any]]
    stale: int
    rejected_24h: list[dict[str, Any]] = []
    counter_flags: list[dict[str, Any]] = []


# --- users, ledger, manual data ---------------------------------------------------------


class MeOut(Out):
    user_id: int
    username: str
    org: str
    role: str
    scopes: list[str]
    token_id: int | None


class TokenCreated(Out):
    id: int
    token: str = Field(description="shown once: the store keeps its SHA-256")


class GrantReads(Out):
    items: list[dict[str, Any]]
    limit: int
    offset: int
    next_offset: int | None


class TreeSize(Out):
    tree_size: int


class SthOut(Out):
    """A signed tree head (names as RFC 6962 §4.3 get-sth)."""

    tree_size: int
    timestamp: int
    sha256_root_hash: str
    tree_head_signature: str
    signature_algorithm: str
    key_id: str


class InclusionOut(Out):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    sha256_root_hash: str
    sth: SthOut | None


class ConsistencyOut(Out):
    first: int
    second: int
    first_root: str
    second_root: str
    consistency: list[str]
    first_sth: SthOut | None
    second_sth: SthOut | None


class ManualUpload(Out):
    kind: str
    batch_id: int | None
    rows: int
    new: int
    duplicates: int
    versioned: int
    rejected: int
    errors: list[dict[str, Any]]


class EvidenceOut(Out):
    """An attached evidence file (invoice, lab report, certificate, photo)."""

    id: int
    site: str
    sha256: str = Field(description="SHA-256 of the file's bytes (64 hex digits)")
    filename: str
    media_type: str
    size_bytes: int
    target_kind: str = Field(description="source_month | manual_entry | request")
    target_ref: str = Field(description="<source>/<YYYY-MM>, manual/… ledger ref, request/<id>")
    note: str
    uploaded_by: str
    uploaded_at: str
    download: str = Field(description="URL of the file")


class EvidenceList(Out):
    items: list[EvidenceOut]


class ProposalOut(Out):
    """A pending recalculation of a filed month beside the filed figure (t; null: none)."""

    id: int
    site: str
    source: str
    period: str
    version: int
    reason: str
    computed_by: str | None
    computed_at: str
    co2e_t: Num | None
    current_version: int | None
    current_co2e_t: Num | None
    difference_t: Num | None


class ProposalsOut(Out):
    """A site's pending proposals and its filed months."""

    site: str
    proposals: list[ProposalOut]
    filed: list[dict[str, Any]]


class FiledOut(Out):
    """Months filed (with the result versions filed) or reopened."""

    site: str
    action: str
    periods: list[dict[str, Any]]
