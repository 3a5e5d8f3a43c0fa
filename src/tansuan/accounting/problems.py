"""Why a source-month could not be computed, and what to do about it — in zh-CN and en.

No source-month is ever absent from a run: a month whose method raised is recorded as
``failed``, a month with no activity data (and no declared shutdown) as ``missing``. Each
carries a *problem* (the reason) and a *fix* (the action), both bilingual
``"中文 / English"`` text, made here from the error's kind so the CLI, the API, the pages
and the reports all say the same thing.

=================  =================================================================
kind               when
=================  =================================================================
``no_data``        no activity data for the month, no declaration, no substitution rule
``no_factor``      :class:`~tansuan.errors.UnknownFactor`: no reference row / default
``no_parameter``   :class:`~tansuan.errors.MissingParameter`: e.g. a lab value is missing
``unit``           :class:`~tansuan.errors.UnitError`: a unit unknown or of the wrong kind
``config``         :class:`~tansuan.errors.ConfigError`: the site model cannot be used
``not_found``      :class:`~tansuan.errors.NotFound`: a point or series is not loaded
``input``          any other :class:`~tansuan.errors.InputError`
``error``          any other :class:`~tansuan.errors.TansuanError`
=================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tansuan.errors import (
    ConfigError,
    InputError,
    MissingParameter,
    NotFound,
    TansuanError,
    UnitError,
    UnknownFactor,
)

State = Literal["computed", "failed", "missing", "inactive"]
#: States that make a run, and any report containing them, incomplete.
PROBLEM_STATES: frozenset[str] = frozenset({"failed", "missing"})
#: What every total, page and report over a failed or missing source-month says.
INCOMPLETE_REASON = "数据不完整，不可报送 / incomplete — not for submission"


@dataclass(frozen=True)
class Problem:
    """A failed or missing source-month: its state, reason and fix (bilingual)."""

    state: State
    kind: str
    problem: str
    fix: str


#: kind → (reason prefix, fix), each "中文 / English".
_TEXT: dict[str, tuple[str, str]] = {
    "no_data": (
        "本月无活动数据，且无停运声明 / no activity data for the month and no declared shutdown",
        "导入本月数据，或声明停运：tansuan declare shutdown SOURCE --site S --from --to "
        "--reason / load the month's data, or declare the shutdown: tansuan declare shutdown "
        "SOURCE --site S --from --to --reason",
    ),
    "no_factor": (
        "找不到排放因子或缺省值 / no emission factor or default value found",
        "在站点模型中给出该参数的值或实测数据，或选择含该缺省值的因子系列 / give the value "
        "(or a measured series) in the site model, or choose a factor series that has it",
    ),
    "no_parameter": (
        "缺少参数（如化验值） / a required parameter (e.g. a lab value) is missing",
        "导入本月化验值或在站点模型中给出该参数 / load the month's lab value or give the "
        "parameter in the site model",
    ),
    "unit": (
        "单位错误 / unit error",
        "更正数据或站点模型中的单位 / correct the unit in the data or the site model",
    ),
    "config": (
        "站点模型无法用于核算 / the site model cannot be used for this source",
        "更正站点模型并运行 tansuan site validate / correct the site model and run "
        "tansuan site validate",
    ),
    "not_found": (
        "数据点或数据序列未载入 / a point or series is not loaded in the store",
        "运行 tansuan site load 载入站点模型 / load the site model: tansuan site load",
    ),
    "input": (
        "输入数据有误 / bad input data",
        "更正该月的输入数据后重新核算 / correct the month's input data and run tansuan "
        "account again",
    ),
    "error": (
        "核算失败 / the calculation failed",
        "按原因更正后重新核算 / correct the cause and run tansuan account again",
    ),
}


def kind_of(error: TansuanError) -> str:
    """The problem kind of an error (most specific class first)."""
    if isinstance(error, UnknownFactor):
        return "no_factor"
    if isinstance(error, MissingParameter):
        return "no_parameter"
    if isinstance(error, UnitError):
        return "unit"
    if isinstance(error, ConfigError):
        return "config"
    if isinstance(error, NotFound):
        return "not_found"
    if isinstance(error, InputError):
        return "input"
    return "error"


def failed(error: TansuanError) -> Problem:
    """A source-month whose method raised ``error``: the reason names the error itself."""
    kind = kind_of(error)
    reason, fix = _TEXT[kind]
    return Problem("failed", kind, f"{reason}: {error}", fix)


def missing() -> Problem:
    """A source-month without activity data, declaration or substitution rule."""
    reason, fix = _TEXT["no_data"]
    return Problem("missing", "no_data", reason, fix)
