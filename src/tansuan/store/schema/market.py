"""Tables of the allowance accounts, their trades and the alert events.

Created by migration 0004. Every row carries the organisation and the site it belongs to
(``org_key``, ``site_key``) like the rest of the store; the functions of
:mod:`tansuan.store.market` filter on both. Nothing is updated in place except the
set-once columns that close a row (a trade's cancellation, an alert's clearing and
delivery): an account change is a new ``allowance_account`` version, a trade a new
``allowance_trade`` row.
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

#: One row per version of a site's account for one compliance year.
allowance_account = sa.Table(
    "allowance_account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_key", sa.String(64), nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False, doc="compliance year"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("entity", sa.Text, nullable=False, doc="compliance entity (名称 of the account)"),
    sa.Column("price", sa.Float, nullable=False, doc="[money/t] to value a shortfall"),
    sa.Column("gas", sa.Boolean, nullable=False, doc="gas unit: the gas exemption may apply"),
    sa.Column("allocation_t", sa.Float, nullable=False, doc="entered free allocation [t]"),
    sa.Column(
        "units", sa.Text, nullable=False, doc="JSON list of benchmark units (allocation.Unit)"
    ),
    sa.Column("banked_t", sa.Float, nullable=False, doc="allowances banked from earlier years [t]"),
    sa.Column(
        "emissions_mean_t", sa.Float, nullable=True, doc="emissions to use without a forecast"
    ),
    sa.Column("emissions_sd_t", sa.Float, nullable=True),
    sa.Column("verified_t", sa.Float, nullable=True, doc="verified emissions of the year [t]"),
    sa.Column("rules", sa.Text, nullable=True, doc="JSON rules override (else ets_power.csv)"),
    sa.Column("changed_at_us", sa.BigInteger, nullable=False),
    sa.Column("changed_by", sa.String(128), nullable=False),
    sa.Column("change", sa.Text, nullable=False, doc="what this version changed"),
    sa.Column("leaf_index", sa.BigInteger, nullable=True, doc="ledger leaf of the change"),
    sa.UniqueConstraint("site_key", "year", "version", name="uq_allowance_account_version"),
)

#: Trades: appended; a cancellation closes the row (set once) and keeps it.
allowance_trade = sa.Table(
    "allowance_trade",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_key", sa.String(64), nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("trade_date", sa.String(10), nullable=False, doc="YYYY-MM-DD"),
    sa.Column("side", sa.String(4), nullable=False, doc="buy or sell"),
    sa.Column("instrument", sa.String(8), nullable=False, doc="CEA or CCER"),
    sa.Column("quantity_t", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False, doc="[money/t]"),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("entered_at_us", sa.BigInteger, nullable=False),
    sa.Column("entered_by", sa.String(128), nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=True),
    sa.Column("cancelled_at_us", sa.BigInteger, nullable=True),
    sa.Column("cancelled_by", sa.String(128), nullable=True),
    sa.Column("cancel_leaf_index", sa.BigInteger, nullable=True),
    sa.Index("ix_allowance_trade_site_year", "site_key", "year"),
)

#: Alerts the server's alerts job has raised: open until they clear; delivered once.
alert_event = sa.Table(
    "alert_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_key", sa.String(64), nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("key", sa.String(255), nullable=False, doc="kind|metric|severity"),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("metric", sa.String(32), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("limit_value", sa.Float, nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("zh", sa.Text, nullable=False),
    sa.Column("en", sa.Text, nullable=False),
    sa.Column("raised_at_us", sa.BigInteger, nullable=False),
    sa.Column("seen_at_us", sa.BigInteger, nullable=False, doc="last evaluation that found it"),
    sa.Column("cleared_at_us", sa.BigInteger, nullable=True),
    sa.Column("sent_at_us", sa.BigInteger, nullable=True, doc="when every webhook had it"),
    sa.Column("sent_to", sa.Text, nullable=False, doc="JSON list of the webhook URLs that took it"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_alert_event_site_open", "site_key", "cleared_at_us"),
)
