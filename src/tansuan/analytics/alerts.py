"""Alerts on thresholds and forecasts, and their delivery by webhook.

A site's *facts* (last month's and the projected year's emissions [tCO2e], the projected
year's energy [tce], the allowance shortfall [t] and its probability) are compared with

* the site's energy budget ``energy_budget_tce`` (能耗双控): alert when the projected year
  exceeds it by more than ``margin_pct`` %; *critical* when even the lower end of the 90 %
  interval does;
* the allowance position: alert when the projected shortfall exceeds ``margin_pct`` % of the
  obligation; *critical* when the shortfall is more likely than not;
* threshold rules ``SITE:METRIC>LIMIT`` (settings ``alert_thresholds``).

Alerts are sent to webhooks (settings ``alert_webhooks``, ``FORMAT=URL``): generic JSON or
the group-robot message formats of WeCom (企业微信), DingTalk (钉钉) and Feishu/Lark (飞书).
Delivery retries with a timeout and never raises: a dead endpoint gives a failed
:class:`Delivery`, not a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from tansuan.errors import InputError

log = logging.getLogger(__name__)

FORMATS = ("json", "wecom", "dingtalk", "feishu")
METRICS = ("month_tco2e", "year_tco2e", "year_tce", "shortfall_t", "shortfall_probability")
#: z of the two-sided 90 % interval's lower end (normal quantile 0.05), for "critical".
_Z90 = 1.6448536269514722

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Alert:
    """One alert of one site."""

    site: str
    kind: Literal["energy_budget", "allowance", "threshold"]
    severity: Severity
    metric: str
    value: float
    limit: float
    unit: str
    zh: str
    en: str

    @property
    def text(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class Threshold:
    """``site:metric>limit`` (site ``*`` = every site)."""

    site: str
    metric: str
    limit: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        found = re.fullmatch(r"\s*([^:\s]+)\s*:\s*(\w+)\s*>\s*([-+0-9.eE]+)\s*", text)
        if found is None:
            raise InputError(
                f"threshold {text!r} must look like SITE:METRIC>LIMIT", field="thresholds"
            )
        site, metric, limit = found.groups()
        if metric not in METRICS:
            raise InputError(
                f"threshold {text!r}: metric must be one of {', '.join(METRICS)}",
                field="thresholds",
            )
        try:
            return cls(site, metric, float(limit))
        except ValueError:
            raise InputError(
                f"threshold {text!r}: {limit!r} is not a number", field="thresholds"
            ) from None


@dataclass(frozen=True)
class Webhook:
    """A delivery target: ``FORMAT=URL``."""

    format: str
    url: str

    @classmethod
    def parse(cls, text: str) -> Webhook:
        fmt, sep, url = text.partition("=")
        fmt = fmt.strip().lower()
        if not sep or fmt not in FORMATS or not url.strip().startswith(("http://", "https://")):
            raise InputError(
                f"webhook {text!r} must look like FORMAT=http(s)://… with FORMAT one of "
                f"{', '.join(FORMATS)}",
                field="webhooks",
            )
        return cls(fmt, url.strip())


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending to one webhook."""

    url: str
    format: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None


# --- rules ------------------------------------------------------------------------------


def budget_alert(
    site: str, projected_tce: float, sd_tce: float, budget_tce: float, margin_pct: float
) -> Alert | None:
    """Projected annual energy [tce] against the energy budget [tce]."""
    if budget_tce <= 0 or projected_tce <= budget_tce * (1.0 + margin_pct / 100.0):
        return None
    over = projected_tce / budget_tce - 1.0
    severity: Severity = "critical" if projected_tce - _Z90 * sd_tce > budget_tce else "warning"
    return Alert(
        site, "energy_budget", severity, "year_tce", projected_tce, budget_tce, "tce",
        f"{site} 预计全年能耗 {projected_tce:,.1f} tce，超出能耗预算 {budget_tce:,.1f} tce 的 "
        f"{over:.1%}",
        f"{site} is projected to use {projected_tce:,.1f} tce this year, {over:.1%} over its "
        f"energy budget of {budget_tce:,.1f} tce",
    )  # fmt: skip


def allowance_alert(site: str, position: Mapping[str, Any], margin_pct: float) -> Alert | None:
    """The allowance shortfall [t] against the obligation [t] (a :class:`Position` dict)."""
    shortfall = float(position["shortfall"])
    obligation = float(position["obligation"])
    if shortfall <= 0 or shortfall <= obligation * margin_pct / 100.0:
        return None
    p = float(position["shortfall_probability"])
    share = shortfall / obligation if obligation > 0 else 1.0
    severity: Severity = "critical" if p > 0.5 else "warning"
    return Alert(
        site, "allowance", severity, "shortfall_t", shortfall, obligation * margin_pct / 100.0,
        "t",
        f"{site} 预计配额缺口 {shortfall:,.0f} t（清缴义务的 {share:.1%}，缺口概率 {p:.0%}，"
        f"价值 {float(position['shortfall_value']):,.0f}）",
        f"{site} is projected to be short of {shortfall:,.0f} t of allowances ({share:.1%} of "
        f"the obligation, probability {p:.0%}, worth {float(position['shortfall_value']):,.0f})",
    )  # fmt: skip


_NAMES = {
    "month_tco2e": ("上月排放", "last month's emissions", "tCO2e"),
    "year_tco2e": ("预计全年排放", "projected emissions of the year", "tCO2e"),
    "year_tce": ("预计全年能耗", "projected energy of the year", "tce"),
    "shortfall_t": ("配额缺口", "allowance shortfall", "t"),
    "shortfall_probability": ("缺口概率", "probability of a shortfall", ""),
}


def threshold_alerts(
    site: str, facts: Mapping[str, float | None], thresholds: Sequence[Threshold]
) -> list[Alert]:
    """One alert per rule of ``site`` (or ``*``) whose metric is known and above its limit."""
    out = []
    for rule in thresholds:
        value = facts.get(rule.metric)
        if rule.site not in ("*", site) or value is None or value <= rule.limit:
            continue
        zh, en, unit = _NAMES[rule.metric]
        out.append(
            Alert(site, "threshold", "warning", rule.metric, float(value), rule.limit, unit,
                  f"{site} {zh} {value:,.4g} {unit} 超过阈值 {rule.limit:,.4g}",
                  f"{site}: {en} {value:,.4g} {unit} is above the threshold {rule.limit:,.4g}")
        )  # fmt: skip
    return out


def evaluate(
    site: str,
    facts: Mapping[str, float | None],
    *,
    budget_tce: float | None,
    position: Mapping[str, Any] | None,
    thresholds: Sequence[Threshold] = (),
    margin_pct: float = 0.0,
) -> list[Alert]:
    """Every alert of a site from its facts (keys :data:`METRICS` and ``year_tce_sd``)."""
    out: list[Alert] = []
    tce = facts.get("year_tce")
    if budget_tce is not None and tce is not None:
        found = budget_alert(site, tce, float(facts.get("year_tce_sd") or 0.0), budget_tce,
                             margin_pct)  # fmt: skip
        if found is not None:
            out.append(found)
    if position is not None and (found := allowance_alert(site, position, margin_pct)):
        out.append(found)
    out += threshold_alerts(site, facts, thresholds)
    return sorted(out, key=lambda a: a.severity != "critical")


# --- payloads and delivery --------------------------------------------------------------


def _markdown(alerts: Sequence[Alert]) -> str:
    lines = ["### 碳算告警 / tansuan alerts"]
    for a in alerts:
        mark = "🔴" if a.severity == "critical" else "🟠"
        lines.append(f"- {mark} **{a.site}** {a.zh}\n  {a.en}")
    return "\n".join(lines)


def payload(fmt: str, alerts: Sequence[Alert]) -> dict[str, Any]:
    """The request body of one webhook format for a list of alerts."""
    title = f"碳算告警 / tansuan alerts ({len(alerts)})"
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _markdown(alerts)}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": _markdown(alerts)}}
    if fmt == "feishu":
        text = "\n".join([title, *(f"[{a.severity}] {a.text}" for a in alerts)])
        return {"msg_type": "text", "content": {"text": text}}
    if fmt == "json":
        return {"source": "tansuan", "alerts": [asdict(a) for a in alerts]}
    raise InputError(f"unknown webhook format {fmt!r}", field="webhooks")


def send(
    hook: Webhook,
    alerts: Sequence[Alert],
    *,
    timeout_s: float = 5.0,
    retries: int = 2,
    backoff_s: float = 0.5,
) -> Delivery:
    """POST the alerts to one webhook; retry on a connection error, a timeout or a 5xx /
    429 answer (``backoff_s`` × attempt between tries). Never raises for network errors."""
    body = json.dumps(payload(hook.format, alerts), ensure_ascii=False).encode("utf-8")
    status: int | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, retries + 2):
        request = urllib.request.Request(
            hook.url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                status = response.status
                reply = response.read(65536)
            error = _robot_error(hook.format, reply)
            if error is None:
                return Delivery(hook.url, hook.format, True, attempt, status, None)
            break  # the robot refused the message (bad key, bad format): retrying won't help
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, error = None, str(getattr(exc, "reason", exc))
        if attempt <= retries:
            time.sleep(backoff_s * attempt)
    log.warning("alert webhook %s failed after %d attempt(s): %s", hook.url, attempt, error)
    return Delivery(hook.url, hook.format, False, attempt, status, error)


def _robot_error(fmt: str, reply: bytes) -> str | None:
    """The error a group robot reports in a 200 answer (WeCom/DingTalk ``errcode``,
    Feishu ``code``), or None."""
    if fmt == "json":
        return None
    try:
        data = json.loads(reply or b"{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0)))
    if code not in (0, None):
        return f"robot error {code}: {data.get('errmsg') or data.get('msg') or ''}".strip()
    return None


def deliver(
    alerts: Sequence[Alert],
    hooks: Sequence[Webhook],
    *,
    timeout_s: float = 5.0,
    retries: int = 2,
    backoff_s: float = 0.5,
) -> list[Delivery]:
    """Send ``alerts`` to every hook (nothing is sent when there are no alerts)."""
    if not alerts:
        return []
    return [send(h, alerts, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s)
            for h in hooks]  # fmt: skip


# --- what was sent already ----------------------------------------------------------------


class SentLog:
    """The alerts already delivered, per site and year, in a small JSON file, so a
    scheduled ``tansuan alerts --send`` tells staff once, not at every run. An alert that
    clears is forgotten, so it is sent again if it comes back; a raised severity is a new
    alert."""

    def __init__(self, path: Any) -> None:
        self.path = Path(path)
        try:
            self.state: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.state = {}
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}", field="alerts") from exc

    @staticmethod
    def key(alert: Alert, year: int) -> str:
        return f"{alert.site}|{year}|{alert.kind}|{alert.metric}|{alert.severity}"

    def new(self, year: int, alerts: Sequence[Alert]) -> list[Alert]:
        """The alerts not yet delivered."""
        return [a for a in alerts if self.key(a, year) not in self.state]

    def update(
        self, site: str, year: int, current: Sequence[Alert], delivered: Sequence[Alert]
    ) -> None:
        """Forget the site's cleared alerts, remember the delivered ones; write the file."""
        keep = {self.key(a, year) for a in current}
        prefix = f"{site}|{year}|"
        self.state = {k: v for k, v in self.state.items() if not k.startswith(prefix) or k in keep}
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for alert in delivered:
            self.state.setdefault(self.key(alert, year), now)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.state, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(partial, self.path)
