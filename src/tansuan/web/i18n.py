"""Dashboard text in zh-CN and en; the choice is remembered in the ``tansuan_lang`` cookie."""

from __future__ import annotations

LANGS = ("zh-CN", "en")
DEFAULT = "zh-CN"

#: key -> (zh-CN, en)
TEXT: dict[str, tuple[str, str]] = {
    "app": ("碳算", "tansuan"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "overview": ("总览", "Overview"),
    "sites": ("站点", "Sites"),
    "hierarchy": ("层级", "Hierarchy"),
    "quality": ("数据质量", "Data quality"),
    "emissions": ("排放", "Emissions"),
    "ledger": ("账本", "Ledger"),
    "admin": ("管理", "Admin"),
    "users": ("用户", "Users"),
    "tokens": ("令牌", "Tokens"),
    "grants": ("数据授权", "Share grants"),
    "energy_today": ("今日能耗", "Energy today"),
    "co2e_month": ("本月排放", "Emissions this month"),
    "same_month_last_year": ("去年同月", "Same month last year"),
    "by_scope": ("按范围", "By scope"),
    "top_sources": ("主要排放源", "Top sources"),
    "last_12": ("去年同月至今", "since the same month last year"),
    "shared_with_you": ("授权给您的站点", "Sites shared with you"),
    "live_values": ("实时值", "Live values"),
    "history": ("历史曲线", "History"),
    "point": ("测点", "Point"),
    "value": ("值", "Value"),
    "unit": ("单位", "Unit"),
    "time": ("时间", "Time"),
    "device": ("设备", "Device"),
    "source": ("排放源", "Source"),
    "scope": ("范围", "Scope"),
    "gas": ("气体", "Gas"),
    "month": ("月份", "Month"),
    "period": ("期间", "Period"),
    "node": ("节点", "Node"),
    "total": ("合计", "Total"),
    "trace": ("溯源", "Trace"),
    "trace_hint": ("点击任一数字查看其溯源", "Click any number to see its trace"),
    "coverage": ("覆盖率", "Coverage"),
    "expected": ("应收", "Expected"),
    "received": ("实收", "Received"),
    "last_reading": ("最近读数", "Last reading"),
    "stale": ("停滞", "Stale"),
    "ok": ("正常", "OK"),
    "substituted": ("替代数据占比", "Substituted share"),
    "grade": ("等级", "Grade"),
    "tree_size": ("树大小", "Tree size"),
    "last_sth": ("最新签名树头", "Last signed tree head"),
    "root_hash": ("根哈希", "Root hash"),
    "no_sth": ("尚无签名树头", "No signed tree head yet"),
    "role": ("角色", "Role"),
    "add": ("添加", "Add"),
    "create": ("创建", "Create"),
    "revoke": ("撤销", "Revoke"),
    "revoked": ("已撤销", "revoked"),
    "name": ("名称", "Name"),
    "scopes": ("权限", "Scopes"),
    "token_once": (
        "请立即复制此令牌，它不会再次显示：",
        "Copy this token now; it will not be shown again:",
    ),
    "grantee": ("被授权方", "Grantee"),
    "classes": ("数据类别", "Data classes"),
    "window": ("数据时间窗", "Data window"),
    "expires": ("到期", "Expires"),
    "direction": ("方向", "Direction"),
    "given": ("授出", "given"),
    "received_grant": ("获得", "received"),
    "error": ("错误", "Error"),
    "not_allowed": ("无权访问", "Not allowed"),
    "not_found": ("未找到", "Not found"),
    "too_many": ("登录失败次数过多，请稍后再试", "Too many failed logins; try again later"),
    "no_data": ("暂无数据", "No data yet"),
    "resolution": ("分辨率", "Resolution"),
    "raw": ("原始", "raw"),
    "hour": ("小时", "hour"),
    "day": ("日", "day"),
    "month_res": ("月", "month"),
    "language": ("English", "中文"),
    "org": ("组织", "Organisation"),
    "open": ("打开", "Open"),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


def translator(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh-CN" else 1
    return {k: v[i] for k, v in TEXT.items()}
