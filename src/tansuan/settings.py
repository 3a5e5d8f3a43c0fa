"""The one typed Settings of tansuan.

Every setting can be overridden by an environment variable named
``TANSUAN_<FIELD>`` (e.g. ``TANSUAN_DATABASE_URL``) or a ``.env`` file in the
working directory. Every field carries help text; ``tansuan settings`` prints
them all. Insecure defaults are refused outside demo mode.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker URL (mqtt://host:1883); the MQTT gateway is off when unset.",
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        description="SQLite synchronous pragma for the store: FULL (durable ack) or NORMAL.",
    )
    # --- ledger (issue 6) ---
    ledger_sth_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between scheduled signed tree heads of the ledger "
        "(the server issues one at start and then at this interval).",
    )

    # --- store and ingest (issue 3) ---
    ingest_token: str | None = Field(
        default=None,
        description="Legacy deployment-wide ingest token: accepted as a Bearer token by "
        "POST /api/v1/readings and manual-data upload (ingest only, every site). Prefer "
        "per-user scoped tokens: `tansuan token create USER --scope ingest`.",
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
