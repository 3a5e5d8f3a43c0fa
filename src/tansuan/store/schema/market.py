"""Tables of the allowance accounts, their trades and the alert events.

Created by migration 0004. Every row carries the organisation and the site it belongs to
(``org_key``, ``site_key``) like the rest of the store; the functions of
:mod:`tansuan.store.market` filter on both. Nothing is updated in place except the
set-once columns that close a row (a trade's cancellation, an alert's clearing and
delivery): an account change is a new ``allowance_account`` version, a trade a new
``allowance_trade`` row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tansuan.store.schema.base import metadata

#: One row per version of a site's account for one compliance year.
allowance_account = Table(
    "allowance_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_key", String(64), nullable=False),
    Column("site_key", String(64), nullable=False),
    Column("year", Integer, nullable=False, doc="compliance year"),
    Column("version", Integer, nullable=False),
    Column("current", Boolean, nullable=False),
    Column("entity", Text, nullable=False, doc="compliance entity (名称 of the account)"),
    Column("price", Float, nullable=False, doc="[money/t] to value a shortfall"),
    Column("gas", Boolean, nullable=False, doc="gas unit: the gas exemption may apply"),
    Column("allocation_t", Float, nullable=False, doc="entered free allocation [t]"),
    Column("units", Text, nullable=False, doc="JSON list of benchmark units (allocation.Unit)"),
    Column("banked_t", Float, nullable=False, doc="allowances banked from earlier years [t]"),
    Column("emissions_mean_t", Float, nullable=True, doc="emissions to use without a forecast"),
    Column("emissions_sd_t", Float, nullable=True),
    Column("verified_t", Float, nullable=True, doc="verified emissions of the year [t]"),
    Column("rules", Text, nullable=True, doc="JSON rules override (else ets_power.csv)"),
    Column("changed_at_us", BigInteger, nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("change", Text, nullable=False, doc="what this version changed"),
    Column("leaf_index", BigInteger, nullable=True, doc="ledger leaf of the change"),
    UniqueConstraint("site_key", "year", "version", name="uq_allowance_account_version"),
)

#: Trades: appended; a cancellation closes the row (set once) and keeps it.
allowance_trade = Table(
    "allowance_trade",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_key", String(64), nullable=False),
    Column("site_key", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("trade_date", String(10), nullable=False, doc="YYYY-MM-DD"),
    Column("side", String(4), nullable=False, doc="buy or sell"),
    Column("instrument", String(8), nullable=False, doc="CEA or CCER"),
    Column("quantity_t", Float, nullable=False),
    Column("price", Float, nullable=False, doc="[money/t]"),
    Column("note", Text, nullable=False),
    Column("entered_at_us", BigInteger, nullable=False),
    Column("entered_by", String(128), nullable=False),
    Column("leaf_index", BigInteger, nullable=True),
    Column("cancelled_at_us", BigInteger, nullable=True),
    Column("cancelled_by", String(128), nullable=True),
    Column("cancel_leaf_index", BigInteger, nullable=True),
    Index("ix_allowance_trade_site_year", "site_key", "year"),
)

#: Alerts the server's alerts job has raised: open until they clear; delivered once.
alert_event = Table(
    "alert_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_key", String(64), nullable=False),
    Column("site_key", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("key", String(255), nullable=False, doc="kind|metric|severity"),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("metric", String(32), nullable=False),
    Column("value", Float, nullable=False),
    Column("limit_value", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("zh", Text, nullable=False),
    Column("en", Text, nullable=False),
    Column("raised_at_us", BigInteger, nullable=False),
    Column("seen_at_us", BigInteger, nullable=False, doc="last evaluation that found it"),
    Column("cleared_at_us", BigInteger, nullable=True),
    Column("sent_at_us", BigInteger, nullable=True, doc="when every webhook had it"),
    Column("sent_to", Text, nullable=False, doc="JSON list of the webhook URLs that took it"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Index("ix_alert_event_site_open", "site_key", "cleared_at_us"),
)
