"""The one typed Settings of tansuan.

Every setting can be overridden by an environment variable named
``TANSUAN_<FIELD>`` (e.g. ``TANSUAN_DATABASE_URL``) or a ``.env`` file in the
working directory. Every field carries help text; ``tansuan settings`` prints
them all. Insecure defaults are refused outside demo mode.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tansuan.clock import parse_instant
from tansuan.errors import ConfigError

DEMO_SECRET = "tansuan-demo-secret-do-not-use-in-production"


class Settings(BaseSettings):
    """Runtime configuration (env prefix ``TANSUAN_``)."""

    model_config = SettingsConfigDict(env_prefix="TANSUAN_", env_file=".env", extra="ignore")

    demo: bool = Field(
        default=True,
        description="Demo mode: allows the built-in secret and demo logins. "
        "Set TANSUAN_DEMO=false in production.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded database, ledger keys and generated files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store. Default: SQLite file <data_dir>/tansuan.db. "
        "Production: postgresql+psycopg://user:pass@host/db",
    )
    secret_key: str = Field(
        default=DEMO_SECRET,
        description="Secret for session cookies and CSRF tokens (at least 32 characters).",
    )
    default_timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone used to cut days, months and years when a site names none.",
    )
    http_host: str = Field(default="127.0.0.1", description="Address the web server binds.")
    http_port: int = Field(default=8000, description="Port of the web server and API.")
    hj212_host: str = Field(default="127.0.0.1", description="Address of the HJ 212 gateway.")
    hj212_port: int = Field(default=8212, description="TCP port of the HJ 212-2017 gateway.")
    # --- HJ 212 gateway limits (gateways/hj212) ---
    hj212_max_connections: int = Field(
        default=2000, gt=0, description="Most HJ 212 loggers connected at once; more are refused."
    )
    hj212_max_connections_per_address: int = Field(
        default=100,
        gt=0,
        description="Most HJ 212 connections open at once from one source address (one "
        "address's idle sockets cannot take every slot); more from it are refused.",
    )
    hj212_max_queued_readings: int = Field(
        default=20_000,
        gt=0,
        description="Most HJ 212 readings waiting for commit in the gateway; an upload "
        "beyond it is not taken and not answered (the logger resends), counted as "
        "tansuan_hj212_errors_total{reason=overloaded}.",
    )
    hj212_idle_timeout_s: float = Field(
        default=900.0,
        gt=0,
        description="Close an HJ 212 connection that sends nothing for this long [s].",
    )
    hj212_packet_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A started HJ 212 packet must be complete within this time [s] "
        "(slow-client defence).",
    )
    hj212_write_timeout_s: float = Field(
        default=10.0, gt=0, description="Give up sending an HJ 212 answer after this long [s]."
    )
    hj212_reassembly_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Drop a split HJ 212 message (PNUM/PNO) not complete after this long [s].",
    )
    hj212_max_errors: int = Field(
        default=20,
        gt=0,
        description="Close an HJ 212 connection after this many rejected packets in a row.",
    )
    hj212_login_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Close an HJ 212 connection with no valid, authenticated packet this long "
        "after connecting [s].",
    )
    hj212_max_clock_skew_s: float = Field(
        default=600.0,
        gt=0,
        description="HJ 212 plausibility window [s]: an upload whose DataTime is further ahead "
        "of the host's clock is refused (9011); one whose DataTime is further after its QN's "
        "time is stored flagged P (implausible).",
    )
    hj212_ack_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="HJ 212 client: wait this long for an answer before resending [s] "
        "(HJ 212-2017 Table 1: 10 s).",
    )
    hj212_ack_retries: int = Field(
        default=3, ge=0, description="HJ 212 client: resends after a timeout (Table 1: 3)."
    )
    hj212_batch_max_readings: int = Field(
        default=20000,
        gt=0,
        description="Most readings the HJ 212 gateway hands to ingest in one commit.",
    )
    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker URL (mqtt://host:1883); the MQTT gateway is off when unset.",
    )
    # -- gateways (MQTT, Modbus TCP, OPC UA) ------------------------------------------
    gateway_sink: str | None = Field(
        default=None,
        description="Where gateways hand readings: 'module:factory', a callable taking the "
        "Settings and returning a Sink. Default: the built-in ingest.",
    )
    gateway_backoff_max_s: float = Field(
        default=60.0,
        gt=0,
        description="Ceiling [s] of the exponential reconnect back-off of every gateway.",
    )
    mqtt_topic_prefix: str = Field(
        default="tansuan",
        description="Root of the MQTT topic scheme: <prefix>/<site>/<point> and <prefix>/<site>.",
    )
    mqtt_client_id: str = Field(
        default="tansuan-gateway",
        description="MQTT client id of the gateway; the broker keeps the persistent session "
        "(and un-acked messages) under it, so keep it stable and unique per gateway.",
    )
    mqtt_session_expiry_s: int = Field(
        default=86_400,
        ge=0,
        description="How long [s] the broker keeps the gateway's session and queued "
        "messages while the gateway is away.",
    )
    mqtt_receive_maximum: int = Field(
        default=10_000,
        ge=1,
        le=65_535,
        description="Most QoS 1 messages the broker may have in flight (un-acked) to the "
        "gateway at once.",
    )
    mqtt_batch_max: int = Field(
        default=5_000, ge=1, description="Most MQTT messages committed in one ingest call."
    )
    mqtt_max_payload_bytes: int = Field(
        default=1_048_576, ge=64, description="MQTT messages larger than this are rejected."
    )

    serve_services: str = Field(
        default="hj212,modbus,opcua,mqtt",
        description="Gateways `tansuan serve` runs beside the web app (comma-separated: "
        "hj212, modbus, opcua, mqtt; empty for none). MQTT runs only when TANSUAN_MQTT_URL "
        "is set; the signed-tree-head schedule always runs. Add `alerts` to evaluate every "
        "site's alerts every TANSUAN_ALERT_INTERVAL_S and send new ones to the webhooks.",
    )
    crosscheck_threshold: float = Field(
        default=0.05,
        ge=0,
        description="Relative difference between a calculated source and its CEMS "
        "cross-check above which a month is flagged (0.05 = 5 %).",
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        description="SQLite synchronous pragma for the store: FULL (durable ack) or NORMAL.",
    )
    # --- ledger ---
    ledger_sth_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between scheduled signed tree heads of the ledger "
        "(the server issues one at start and then at this interval).",
    )
    ledger_witness_url: str | None = Field(
        default=None,
        description="URL of a witness that countersigns every scheduled tree head and keeps "
        "its own copy (`tansuan witness`); unset: heads are anchored in the local file only.",
    )

    # --- evidence (store/evidence.py) ---
    evidence_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Largest evidence file (invoice, lab report, certificate, photo) accepted, "
        "in bytes (default 50 MiB); a larger upload is refused and nothing is stored.",
    )
    evidence_s3_endpoint: str | None = Field(
        default=None,
        description="Endpoint URL of an S3-compatible server (MinIO, AWS S3, …) for evidence "
        "files; unset: files are stored content-addressed under <data_dir>/evidence.",
    )
    evidence_s3_bucket: str = Field(
        default="tansuan-evidence", description="Bucket of the evidence files (S3 store)."
    )
    evidence_s3_prefix: str = Field(
        default="evidence", description="Key prefix of the evidence files: <prefix>/<sha256>."
    )
    evidence_s3_access_key: str | None = Field(
        default=None, description="Access key id of the S3 evidence store."
    )
    evidence_s3_secret_key: str | None = Field(
        default=None, description="Secret access key of the S3 evidence store."
    )
    evidence_s3_region: str = Field(
        default="us-east-1", description="Region name the S3 evidence store signs requests for."
    )

    # --- uploads (web/limits.py, ingest/manual.py, web/jobs.py) ---
    upload_max_bytes_readings: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Largest body of POST /api/v1/readings [bytes] (default 64 MiB, about 1 M "
        "readings as columnar JSON); a larger body is refused with 413 while it streams in, "
        "and nothing is stored.",
    )
    upload_max_bytes_manual_data: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description="Largest manual-data file (CSV/XLSX) of POST /api/v1/manual-data [bytes] "
        "(default 32 MiB); a larger upload is refused with 413 while it streams in, and "
        "nothing is stored.",
    )
    upload_max_bytes_default: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        description="Largest body of any other request (JSON of grants, users, trades, "
        "forms, holdings YAML…) [bytes] (default 8 MiB); refused with 413 while it streams in.",
    )
    upload_max_inflated_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Most bytes an uploaded XLSX (a ZIP) may inflate to, declared or actual "
        "(default 64 MiB); a larger workbook (a zip bomb) is refused with 413 before it is "
        "parsed.",
    )
    upload_max_rows: int = Field(
        default=300_000,
        gt=0,
        description="Most rows (header included) of an uploaded CSV/XLSX table (default "
        "300,000); the parse stops at the limit and the upload is refused with 413.",
    )
    upload_max_columns: int = Field(
        default=256,
        gt=0,
        description="Most columns of a row of an uploaded CSV/XLSX table (default 256); a "
        "wider row is refused with 413 naming the row.",
    )
    upload_job_threshold_rows: int = Field(
        default=20_000,
        gt=0,
        description="A manual-data upload with more data rows than this is imported as a "
        "background job: the answer is 202 with the job's address (GET /api/v1/jobs/{id}).",
    )
    upload_job_batch_rows: int = Field(
        default=250,
        gt=0,
        description="Rows a background import writes per transaction; the store's one writer "
        "is held for one batch at a time (about 0.2 s at the default), so other ingest waits at "
        "most one batch.",
    )
    upload_jobs_kept: int = Field(
        default=200,
        gt=0,
        description="Finished background jobs remembered (for GET /api/v1/jobs/{id}) before "
        "the oldest are forgotten; jobs live in the server's memory, not in the store.",
    )

    # --- logins and proxies (web/auth.py; docs/security.md "Sessions and logins") ---
    trusted_proxies: list[str] = Field(
        default=[],
        description="Reverse proxies whose X-Forwarded-For is believed, as addresses or CIDRs "
        '(JSON list in the environment, e.g. \'["10.0.0.5", "10.1.0.0/16"]\'). The client '
        "is the right-most hop not in this list; from any other peer X-Forwarded-For is "
        "ignored. Default empty: the TCP peer is the client.",
    )
    login_user_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins of one username within TANSUAN_LOGIN_WINDOW_S that lock "
        "the username for everyone until the window has passed.",
    )
    login_address_failures: int = Field(
        default=30,
        ge=1,
        description="Failed logins from one client address within TANSUAN_LOGIN_WINDOW_S that "
        "lock the address, except for users who logged in from it before (within "
        "TANSUAN_LOGIN_KNOWN_S).",
    )
    login_window_s: float = Field(
        default=300.0, gt=0, description="Window of the login failure counts [s]."
    )
    login_known_s: float = Field(
        default=30 * 86400.0,
        gt=0,
        description="How long a successful login exempts that user at that address from the "
        "address's lock [s].",
    )
    login_tracked_max: int = Field(
        default=10_000,
        ge=100,
        description="Most usernames, addresses and known (user, address) pairs the login "
        "limiter keeps, each (the least recently failed are dropped first); bounds its memory "
        "at a few MB.",
    )

    # --- store and ingest ---
    ingest_token: str | None = Field(
        default=None,
        description="Legacy deployment-wide ingest token: accepted as a Bearer token by "
        "POST /api/v1/readings and manual-data upload (ingest only, every site). Prefer "
        "per-user scoped tokens: `tansuan token create USER --scope ingest`.",
    )

    # --- insights and alerts (views/, analytics/alerts.py) ---
    energy_tariff: float | None = Field(
        default=None,
        ge=0,
        description="Energy tariff to value findings [money/kWh]; the findings API and page "
        "take `tariff` to override it.",
    )
    findings_factor_t_per_mwh: float | None = Field(
        default=None,
        ge=0,
        description="Emission factor to value findings and savings [tCO2/MWh], e.g. the "
        "year's grid factor from the reference tables; `factor` overrides it.",
    )
    carbon_price: float = Field(
        default=0.0, ge=0, description="Carbon price to value findings [money/tCO2]."
    )
    shift_calendar: str = Field(
        default="mon-fri=08-18",
        description="Default shift calendar of the findings: DAYS=HH-HH entries separated "
        "by ';', e.g. 'mon-fri=08-18;sat=08-12'.",
    )
    holdings_dir: Path | None = Field(
        default=None,
        description="Unused since the allowance accounts moved into the store: import an "
        "old <holdings_dir>/<site>.yaml with `tansuan position import FILE --site SITE`.",
    )
    alert_margin_pct: float = Field(
        default=0.0,
        ge=0,
        description="Alert when the projected year exceeds the energy budget, or the "
        "shortfall exceeds the obligation, by more than this [%].",
    )
    alert_thresholds: list[str] = Field(
        default=[],
        description="Threshold alerts as 'SITE:METRIC>LIMIT' (SITE may be '*'); metrics: "
        "month_tco2e, year_tco2e, year_tce, shortfall_t, shortfall_probability. JSON list "
        "in the environment, e.g. '[\"*:month_tco2e>500\"]'.",
    )
    alert_webhooks: list[str] = Field(
        default=[],
        description="Where alerts are sent, as 'FORMAT=URL' with FORMAT json, wecom, "
        "dingtalk or feishu (group-robot webhooks). JSON list in the environment.",
    )
    alert_timeout_s: float = Field(
        default=5.0, gt=0, description="Timeout of one webhook delivery attempt [s]."
    )
    alert_retries: int = Field(
        default=2, ge=0, description="Further attempts after a failed webhook delivery."
    )
    alert_interval_s: float = Field(
        default=900.0,
        gt=0,
        description="Seconds between the rounds of the server's alerts job (service `alerts` "
        "in TANSUAN_SERVE_SERVICES): every site is evaluated, new alerts are sent, failed "
        "webhooks are tried again.",
    )
    now: str | None = Field(
        default=None,
        description="Freeze the platform's calendar at this instant (ISO 8601 with an offset, "
        "e.g. 2025-11-15T10:00:00+08:00): 'this year', 'the last complete month' and 'today' "
        "are read from it. For tests and replays of a past day; leave unset in production. "
        "Timestamps of events as they happen (a packet received, a tree head signed) keep the "
        "real clock.",
    )

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if not self.demo and (self.secret_key == DEMO_SECRET or len(self.secret_key) < 32):
            raise ConfigError(
                "outside demo mode set TANSUAN_SECRET_KEY to a random string of 32+ characters",
                field="secret_key",
            )
        if self.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ConfigError("must be FULL, NORMAL or EXTRA", field="sqlite_synchronous")
        if self.now is not None:
            parse_instant(self.now)
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ConfigError(
                    f"{entry!r} is not an address or CIDR, e.g. 10.0.0.5 or 10.1.0.0/16",
                    field="trusted_proxies",
                ) from None
        return self

    @property
    def effective_database_url(self) -> str:
        """The store URL, defaulting to the SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tansuan.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
