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
    "report": ("报告", "Report"),
    "whatif": ("情景模拟", "What-if"),
    "whatif_hint": (
        "用数字孪生把工厂向前推演：风机定时控制或变频改造、燃料替代、绿电比例、产量变化，"
        "与基准比较能耗、排放与成本。",
        "Run the digital twin forward with changes — fan scheduling or a VFD retrofit, a "
        "fuel switch, a share of green power, a production change — and compare energy, "
        "emissions and cost with the baseline.",
    ),
    "whatif_empty": ("选择变化后点击“推演”。", "Choose the changes, then Run."),
    "whatif_basis": (
        "同一孪生、同一随机种子、同一时段的基准与情景；排放按核算方法与参考表计算。",
        "Baseline and scenario from the same twin, seed and days; emissions by the "
        "accounting methods and the reference tables.",
    ),
    "site": ("站点", "Site"),
    "fan_schedule": ("风机定时控制", "fan scheduling"),
    "vfd_retrofit": ("变频改造", "VFD retrofit"),
    "fuel": ("燃料替代", "fuel switch"),
    "green_share": ("绿电比例", "green share"),
    "production": ("产量系数", "production ×"),
    "days": ("天数", "days"),
    "run": ("推演", "Run"),
    "computing": ("计算中…", "computing…"),
    "baseline": ("基准", "Baseline"),
    "scenario": ("情景", "Scenario"),
    "change": ("变化", "Change"),
    "report_annual": ("年度排放报告", "Annual emission report"),
    "report_inventory": ("温室气体清单", "GHG inventory"),
    "report_energy": ("能源报告", "Energy report"),
    "download": ("下载（记入账本）", "Download (logged in the ledger)"),
    "total": ("合计", "Total"),
    "trace": ("溯源", "Trace"),
    "evidence_files": ("存证文件", "Evidence files"),
    "evidence_none": ("本月尚无存证文件", "No evidence files attached to this month"),
    "file_name": ("文件名", "File name"),
    "file_type": ("类型", "Type"),
    "file_size": ("大小（字节）", "Size (bytes)"),
    "evidence_download": ("下载", "Download"),
    "trace_hint": ("点击任一数字查看其溯源", "Click any number to see its trace"),
    "incomplete": ("数据不完整，不可报送", "Incomplete — not for submission"),
    "not_computed": ("未核算的月份", "Months not computed"),
    "state": ("状态", "State"),
    "state_failed": ("失败", "failed"),
    "state_missing": ("缺失", "missing"),
    "problem": ("原因", "Reason"),
    "fix": ("处理", "Fix"),
    "coverage": ("覆盖率", "Coverage"),
    "expected": ("应收", "Expected"),
    "received": ("实收", "Received"),
    "last_reading": ("最近读数", "Last reading"),
    "stale": ("停滞", "Stale"),
    "cadence": ("到达间隔", "Arrives every"),
    "declared": ("声明", "declared"),
    "cadence_hint": (
        "覆盖率与停滞按数据实际到达的间隔判断（如小时上传）；比声明间隔稀疏时标出声明值。",
        "Coverage and staleness follow the interval data actually arrive at (e.g. hourly "
        "uploads); where that is sparser than declared, the declared interval is shown.",
    ),
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
    "company": ("公司", "Company"),
    "gateways": ("网关连接", "Gateway connections"),
    "connected": ("已连接", "connected"),
    "disconnected": ("未连接", "disconnected"),
    "last_error": ("最近错误", "Last error"),
    "open": ("打开", "Open"),
    "rejected_24h": (
        "近24小时被拒读数（入库错误）",
        "Readings rejected in the last 24 h (ingest errors)",
    ),
    "reason": ("原因", "Reason"),
    "counter_flags": (
        "计数器异常读数（不计电量的毛刺、尖峰、待确认；已接受的复位、翻转）",
        "Counter readings flagged (glitch, spike, pending carry no energy; reset, rollover "
        "accepted)",
    ),
    "counter_glitch": ("毛刺：下一读数回到原水平", "glitch: the next reading returns to the level"),
    "counter_spike": ("尖峰：超出合理增量", "spike: more than a plausible increase"),
    "counter_pending": ("待确认：下降待下一读数判定", "pending: a drop waits for the next reading"),
    "counter_reset": (
        "复位：后续读数从新水平继续",
        "reset: the readings continue from the new level",
    ),
    "counter_rollover": ("翻转：寄存器回零", "rollover: the register wrapped to 0"),
    "counter_replacement": (
        "换表：已登记旧表末读数与新表初读数",
        "replacement: declared with final and initial readings",
    ),
    "flag": ("标记", "Flag"),
    "rows": ("行数", "Rows"),
    "example": ("示例", "Example"),
    "none": ("无", "None"),
    "verify_receipt": ("验证回执", "Verify a receipt"),
    "receipt": ("回执 (JSON)", "Receipt (JSON)"),
    "document": ("报告文件（可选）", "Report file (optional)"),
    "verify": ("验证", "Verify"),
    "verified": ("验证通过", "Verified"),
    "not_verified": ("验证失败", "Verification failed"),
    "by_group": ("分组合计", "Totals by group"),
    "window_from": ("数据起始日", "Data from"),
    "window_to": ("数据截止日（不含）", "Data until (exclusive)"),
    "audit": ("授权访问日志", "Reads under your grants (audit log)"),
    "grant": ("授权", "Grant"),
    "what": ("内容", "What"),
    "leaf": ("账本叶子", "Ledger leaf"),
    # --- insights ---
    "findings": ("能效发现", "Findings"),
    "savings": ("节能核证", "Savings"),
    "not_verifiable": ("此基线模型不足以核证节能量", "Not verifiable with this model"),
    "savings_not_verified": ("未核证", "not verified"),
    "not_verifiable_hint": (
        "基线未达到 ASHRAE Guideline 14 校准判据；以下数值仅供参考，不是经核证的节能量",
        "The baseline fails ASHRAE Guideline 14's calibration criteria; the figures below "
        "are shown for reference and are not verified savings",
    ),
    "criterion": ("判据", "Criterion"),
    "limit": ("限值", "Limit"),
    "enpi": ("能效指标", "EnPIs"),
    "baseline_end": ("报告期起始日", "Reporting from"),
    "specific": ("单耗", "Specific consumption"),
    "normalised": ("归一化能效指标", "Normalised EnPI"),
    "normalised_hint": (
        "报告期能耗 ÷ 基准模型（按工作日/休息日）预计能耗；小于 1 表示改善",
        "reporting energy ÷ what the baseline (working day or not) expects; below 1 is an "
        "improvement",
    ),
    "drivers": ("驱动变量", "Drivers"),
    "partial_month": ("不完整月", "part of the month"),
    "level_shift": ("水平变化（计入预测）自", "level shift carried forward since"),
    "forecast": ("排放预测", "Forecast"),
    "position": ("配额头寸", "Allowances"),
    "alerts": ("告警", "Alerts"),
    "no_alerts": ("无告警", "No alerts"),
    "site_label": ("站点", "Site"),
    "from_day": ("起始日", "From"),
    "to_day": ("截止日（不含）", "To (exclusive)"),
    "tariff": ("电价 [元/kWh]", "Tariff [money/kWh]"),
    "factor": ("排放因子 [tCO₂/MWh]", "Emission factor [tCO₂/MWh]"),
    "calendar": ("班次", "Shift calendar"),
    "kind": ("类型", "Kind"),
    "annual_kwh": ("年能耗浪费 [kWh]", "Waste per year [kWh]"),
    "annual_tco2e": ("年排放 [tCO₂e]", "Emissions per year [tCO₂e]"),
    "annual_cost": ("年费用", "Cost per year"),
    "detail": ("说明", "Detail"),
    "evidence": ("证据图", "Evidence chart"),
    "no_findings": ("没有发现", "No findings"),
    "findings_total": ("全部发现合计（年化）", "All findings, per year"),
    "findings_count": ("条发现", "findings"),
    "findings_all_kinds": ("全部类型", "All kinds"),
    "findings_page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "findings_previous": ("上一页", "Previous"),
    "findings_next": ("下一页", "Next"),
    "flagged": ("标记小时", "Flagged hours"),
    "energy_kwh": ("能耗 [kWh]", "Energy [kWh]"),
    "intervention": ("改造日期", "Intervention date"),
    "adjusted_baseline": ("调整后基线", "Adjusted baseline"),
    "actual": ("实际", "Actual"),
    "avoided": ("节能量", "Avoided energy"),
    "avoided_t": ("减排量", "Avoided emissions"),
    "interval": ("置信区间", "Interval"),
    "year": ("年份", "Year"),
    "level": ("区间水平", "Interval level"),
    "history_t": ("历史排放", "History"),
    "forecast_mean": ("预测", "Forecast"),
    "band": ("预测区间", "Prediction band"),
    "backtest": ("回测误差", "Back-test errors"),
    "model": ("模型", "Model"),
    "windows": ("窗口数", "Windows"),
    "year_total": ("全年预计", "Year projected"),
    "holdings": ("持有", "Holdings"),
    "free_allocation": ("免费配额", "Free allocation"),
    "purchased": ("买入", "Purchased"),
    "sold": ("卖出", "Sold"),
    "banked": ("结转", "Banked"),
    "ccer": ("CCER", "CCER"),
    "forecast_emissions": ("预测排放", "Forecast emissions"),
    "obligation": ("清缴义务", "Obligation"),
    "shortfall": ("缺口", "Shortfall"),
    "surplus": ("盈余", "Surplus"),
    "shortfall_value": ("缺口价值", "Shortfall value"),
    "shortfall_probability": ("缺口概率", "Probability of a shortfall"),
    "emissions_basis": ("排放依据", "Emissions basis"),
    "upload_holdings": ("上传配额持有文件 (YAML)", "Upload the holdings file (YAML)"),
    "upload": ("上传", "Upload"),
    # --- allowance accounts in the store ---
    "upload_account": ("导入配额账户文件 (YAML)", "Import an account file (YAML)"),
    "trades": ("交易", "Trades"),
    "trade_date": ("日期", "Date"),
    "side": ("方向", "Side"),
    "buy": ("买入", "Buy"),
    "sell": ("卖出", "Sell"),
    "instrument": ("品种", "Instrument"),
    "quantity_t": ("数量 (t)", "Quantity (t)"),
    "price": ("价格", "Price"),
    "note": ("备注", "Note"),
    "entered_by": ("录入人", "Entered by"),
    "cancelled": ("已撤销", "Cancelled"),
    "add_trade": ("新增交易", "Add a trade"),
    "account_version": ("账户版本", "Account version"),
    "verified_emissions": ("核查排放", "Verified emissions"),
    "no_account_trades": ("没有交易", "No trades"),
    "stored_alerts": ("告警记录", "Alerts raised"),
    "raised_at": ("首次出现", "Raised"),
    "sent_at": ("已发送", "Sent"),
    "not_sent": ("未发送", "Not sent"),
    "cancel_trade": ("撤销", "Cancel"),
    "save_values": ("保存", "Save"),
    # filing and proposals (four eyes)
    "filing": ("报送与审核", "Filing and approval"),
    "filed_months": ("已报送月份", "Filed months"),
    "filed_by": ("报送人", "Filed by"),
    "no_filed_months": ("尚无已报送月份", "No month is filed"),
    "file_months": ("报送", "File"),
    "reopen_months": ("重新开放", "Reopen"),
    "pending_proposals": ("待决定的重算提议", "Pending proposals"),
    "no_pending_proposals": ("没有待决定的提议", "No pending proposals"),
    "filed_t": ("已报送 tCO₂e", "Filed tCO₂e"),
    "proposed_t": ("提议 tCO₂e", "Proposed tCO₂e"),
    "difference_t": ("差异 tCO₂e", "Difference tCO₂e"),
    "proposed_by": ("提议人", "Proposed by"),
    "accept": ("接受", "Accept"),
    "reject": ("驳回", "Reject"),
    "four_eyes_hint": (
        "碳核算员报送月份并提出重算；须由另一位审核人接受或驳回（四眼原则）。",
        "A carbon accountant files months and proposes recalculations; another user, an "
        "approver, accepts or rejects them (four eyes).",
    ),
}

#: The verifier's workbench (web/workbench_pages.py, templates/workbench.html).
TEXT.update(
    {
        "wb_title": ("核查工作台", "Verification workbench"),
        "wb_hint": (
            "核查方在授权范围内提出核查请求、记录不符合项并签署核查意见；受核查企业答复请求、"
            "回复不符合项。每一步都记入账本。",
            "Under a share grant the verifier raises requests, records findings and signs a "
            "period off; the plant answers requests and responds to findings. Every step is "
            "a ledger leaf.",
        ),
        "wb_side_verifier": ("核查方", "Verifier"),
        "wb_side_plant": ("本企业（受核查方）", "Your plant (verified)"),
        "wb_months": ("授权月份", "Granted months"),
        "wb_months_hint": (
            "点击月份查看排放数据，每个数字可打开其追溯与存证",
            "open a month's emissions; every number opens its trace and evidence",
        ),
        "wb_requests": ("核查请求", "Requests"),
        "wb_subject": ("对象（排放源或数据项）", "Subject (source or entry)"),
        "wb_request_text": ("请求内容", "Request"),
        "wb_request_example": (
            "例如：请提供 5 月燃煤化验报告",
            "e.g. provide the lab report for coal, May",
        ),
        "wb_status": ("状态", "Status"),
        "wb_status_open": ("待处理", "Open"),
        "wb_status_answered": ("已答复", "Answered"),
        "wb_status_responded": ("已回复", "Responded"),
        "wb_status_closed": ("已关闭", "Closed"),
        "wb_replies": ("答复", "Answers"),
        "wb_kind_attachment": ("附件", "Attachment"),
        "wb_kind_correction": ("更正（重算提议）", "Correction (proposal)"),
        "wb_kind_note": ("说明", "Note"),
        "wb_kind_response": ("回复", "Response"),
        "wb_proposal_id": ("提议编号", "Proposal #"),
        "wb_answer": ("答复", "Answer"),
        "wb_close": ("关闭", "Close"),
        "wb_closed_note": ("关闭说明", "Closing note"),
        "wb_raise": ("提出请求", "Raise a request"),
        "wb_no_requests": ("没有核查请求", "No requests"),
        "wb_findings": ("不符合项", "Findings (non-conformities)"),
        "wb_severity": ("严重程度", "Severity"),
        "wb_sev_major": ("重大", "Major"),
        "wb_sev_minor": ("一般", "Minor"),
        "wb_sev_observation": ("观察项", "Observation"),
        "wb_finding_text": ("不符合项描述", "Finding"),
        "wb_response": ("整改与回复", "What was done"),
        "wb_respond": ("回复", "Respond"),
        "wb_record": ("记录不符合项", "Record a finding"),
        "wb_no_findings": ("没有不符合项", "No findings"),
        "wb_signoffs": ("核查签署", "Sign-offs"),
        "wb_verifier": ("核查员", "Verifier"),
        "wb_opinion": ("核查意见", "Opinion"),
        "wb_tree": ("账本树大小 · 树根", "Ledger size · root"),
        "wb_no_signoffs": ("尚未签署", "Not signed off yet"),
        "wb_no_key": (
            "授权方尚未登记您的公钥，不能签署（请授权方管理员在核查工作台登记）。",
            "No public key of yours is registered on this grant: the grantor's administrator "
            "registers it (their workbench page) before you can sign off.",
        ),
        "wb_key": ("核查员公钥", "Verifier public key"),
        "wb_prepare": ("生成待签署声明", "Prepare the statement"),
        "wb_major_open": (
            "尚有未关闭的重大不符合项，签署将被拒绝",
            "Major findings are open; a sign-off is refused",
        ),
        "wb_sign_hint": (
            "将下面的声明保存为文件，用您自己的私钥签名：tansuan signoff sign --key 私钥文件 "
            "--statement 声明文件；再把签名（十六进制）粘贴到下面。服务器不保存您的私钥。",
            "Save the statement below to a file and sign it with your own key: tansuan signoff "
            "sign --key KEYFILE --statement FILE; paste the signature (hex) below. The server "
            "never holds your private key.",
        ),
        "wb_signature": ("签名（十六进制）", "Signature (hex)"),
        "wb_sign_off": ("签署", "Sign off"),
        "wb_nothing": (
            "没有可核查的站点：核查方需要数据授权。",
            "No site to verify: a verifier needs a share grant.",
        ),
        "wb_keys": ("核查员公钥登记", "Verifier keys on your grants"),
        "wb_keys_hint": (
            "核查员用自己的 Ed25519 私钥签署；在此登记其公钥（64 位十六进制）。",
            "The verifier signs with an Ed25519 key of their own; register its public key "
            "(64 hex digits) here.",
        ),
        "wb_register": ("登记", "Register"),
        "workbench": ("核查工作台", "Workbench"),
    }
)


#: Display names of stored codes (scopes, finding kinds, units), per language.
TEXT.update(
    {
        "scope_1": ("范围一", "Scope 1"),
        "scope_2-location": ("范围二（基于位置）", "Scope 2 (location-based)"),
        "scope_2-market": ("范围二（基于市场）", "Scope 2 (market-based)"),
        "scope_3": ("范围三", "Scope 3"),
        "kind_off_shift": ("班次外运行", "Running off shift"),
        "kind_idling": ("空载运行", "Idling"),
        "kind_degradation": ("能效劣化", "Degradation"),
        "kind_peer_outlier": ("同类设备能耗偏高", "Above its peers"),
        "kind_simultaneous_heating_cooling": ("同时加热与制冷", "Heating and cooling at once"),
        "token_prefix": ("前缀", "Prefix"),
        "unit_degC": ("℃", "°C"),
        "site_time": ("站点时间", "site time"),
        "form_error": ("输入有误", "Check the input"),
        "not_a_number": ("“{value}”不是数字", "{value!r} is not a number"),
        "whatif_days_range": ("天数须在 7 到 366 之间", "days must be between 7 and 366"),
        "whatif_green_range": ("绿电比例须在 0 到 1 之间", "green share must be between 0 and 1"),
        "whatif_production_range": ("产量系数须大于 0", "the production factor must be above 0"),
        "known_interventions": ("已知的改造", "Known interventions"),
        "no_interventions": (
            "本站点没有登记的改造。请输入节点与改造日期（YYYY-MM-DD）后点击“打开”。",
            "No intervention is recorded for this site: enter the node and the intervention "
            "date (YYYY-MM-DD), then Open.",
        ),
        "choose_intervention": (
            "请选择一项改造，或输入节点与改造日期。",
            "Choose an intervention, or enter the node and its date.",
        ),
        "intervention_what": ("改造内容", "What changed"),
        "intervention_fan_schedule": ("风机远程定时控制", "Scheduled remote fan control"),
        "no_account": ("本站点 {year} 年尚无配额账户", "No allowance account for {year} yet"),
        "no_account_hint": (
            "配额头寸需要站点的配额账户：免费配额、交易与结转（YAML 文件）。管理员可在上方导入，"
            "或在命令行运行 tansuan position import 文件.yaml --site {site}。",
            "The position needs the site's allowance account: free allocation, trades and "
            "banked allowances (a YAML file). An administrator imports it above, or runs "
            "tansuan position import FILE.yaml --site {site}.",
        ),
        "no_account_ask": (
            "请联系本组织的管理员导入配额账户。",
            "Ask an administrator of your organisation to import the account.",
        ),
        "trace_chain": ("计算链", "Calculation chain"),
        "trace_readings": ("读数", "Readings"),
        "trace_rollup": ("汇总", "Rollup"),
        "trace_activity": ("活动数据", "Activity data"),
        "trace_factors": ("排放因子", "Factors"),
        "trace_formula": ("公式", "Formula"),
        "trace_result": ("结果", "Result"),
        "trace_raw": ("原始 JSON", "Raw JSON"),
        "trace_source_ref": ("来源", "Source"),
        "ts_local": ("本地时间", "local time"),
        "forecast_unavailable": ("暂无预测", "No forecast yet"),
        "invalid_field": ("字段 {field} 的值“{value}”无效", "{field}: {value!r} is not valid"),
    }
)


def localize(message: str | None, lang: str) -> str:
    """One language of a bilingual ``"中文 / English"`` message (errors and findings
    carry both); a message without that form is returned as it is.

    >>> localize("请输入日期 / give the date", "en")
    'give the date'
    >>> localize("请输入日期 / give the date", "zh-CN")
    '请输入日期'
    >>> localize("scope 1 / 2", "zh-CN")
    'scope 1 / 2'
    """
    if not message:
        return message or ""
    head, sep, tail = message.partition(" / ")
    if not sep or not _has_cjk(head) or _has_cjk(tail):
        return message
    return head.strip() if lang == "zh-CN" else tail.strip()


def _has_cjk(text: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


def translator(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh-CN" else 1
    return {k: v[i] for k, v in TEXT.items()} | {"_lang": LANGS[i]}
