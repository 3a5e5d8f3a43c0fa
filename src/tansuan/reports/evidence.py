"""The monthly data-evidence table (月度信息化存证, report-templates §2.3).

Per month: every activity datum and measured parameter of every source, with its origin
tag (TEL telemetry / MAN ledger / LAB laboratory), the evidence behind it (points with
received/expected readings, document references), the upload deadline and the result
set it fed. Defaults need no monthly evidence: Appendix B cites them.
"""

from __future__ import annotations

from tansuan.reports.gather import Inputs, upload_due
from tansuan.reports.i18n import Lang, parameter_label, unit_label
from tansuan.reports.model import Column, Table
from tansuan.reports.traces import activity_items, is_constant, parameter_items
from tansuan.store.evidence import MEDIA_TYPES


def evidence_intro(tx: Lang) -> str:
    return tx(
        "每月结束后 40 个自然日内上传当月台账与原始记录（环办气候函〔2022〕111号、〔2023〕43号）。"
        "来源标签：TEL 遥测，MAN 人工台账，LAB 化验，DEF 缺省值。",
        "Each month's ledgers and original records are uploaded within 40 natural days after "
        "the month ends (环办气候函〔2022〕111号, 〔2023〕43号). Origin tags: TEL telemetry, MAN "
        "manual ledger, LAB laboratory, DEF default.",
    )


def evidence_table(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        compact=True,
        id="evidence",
        title=tx("月度存证数据", "Monthly evidence"),
        columns=[
            Column(tx("月份", "Month"), width="7%"),
            Column(tx("排放源", "Source"), width="9%"),
            Column(tx("数据项", "Item"), width="16%"),
            Column(tx("数值", "Value"), ",.6g", width="9%"),
            Column(tx("单位", "Unit"), width="5%"),
            Column(tx("来源", "Origin"), width="5%"),
            Column(
                tx("证据（测点读数 / 台账单据）", "Evidence (point readings / documents)"),
                width="33%",
            ),
            Column(tx("存证截止", "Upload due"), width="8%"),
            Column(tx("结果版本", "Result"), width="8%"),
        ],
    )
    for month in inputs.months:
        due = upload_due(month).isoformat()
        for (source_id, m), info in sorted(inputs.sets.items()):
            if m != month:
                continue
            for item in activity_items(info.trace):
                origin = item.origin_tag
                value = item.value if isinstance(item.value, int | float) else None
                table.add(
                    [
                        month,
                        source_id,
                        parameter_label(tx, item.name),
                        value,
                        unit_label(tx, item.unit),
                        origin,
                        item.evidence,
                        due,
                        f"#{info.set_id} v{info.version}",
                    ]
                )
            for item in parameter_items(info.trace):
                if is_constant(item) or item.origin not in ("measured", "supplier"):
                    continue  # defaults need no monthly evidence: Appendix B cites them
                origin = item.origin_tag
                value = item.value if isinstance(item.value, int | float) else None
                table.add(
                    [
                        month,
                        source_id,
                        parameter_label(tx, item.name),
                        value,
                        unit_label(tx, item.unit),
                        origin,
                        item.evidence or item.factor_id,
                        due,
                        f"#{info.set_id} v{info.version}",
                    ]
                )
        for series, values in inputs.production.items():
            if month in values:
                docs = ", ".join(inputs.production_docs.get(series, {}).get(month, []))
                table.add(
                    [
                        month,
                        "—",
                        series,
                        values[month],
                        inputs.production_units[series],
                        "MAN",
                        docs,
                        due,
                        "",
                    ]
                )
    return table


def attachments_table(inputs: Inputs, tx: Lang) -> Table:
    """Each month's attached evidence files (invoices, lab reports, certificates, photos):
    what they are attached to, file name, type, size and the first 16 hex digits of their
    SHA-256 (the full digest is in the ledger leaf ``evidence/<site>/<id>``)."""
    table = Table(
        compact=True,
        id="attachments",
        title=tx("存证文件", "Evidence files"),
        columns=[
            Column(tx("月份", "Month"), width="8%"),
            Column(tx("关联对象", "Attached to"), width="26%"),
            Column(tx("文件名", "File name"), width="26%"),
            Column(tx("类型", "Type"), width="8%"),
            Column(tx("大小（字节）", "Size (bytes)"), ",d", width="10%"),
            Column(tx("SHA-256（前 16 位）", "SHA-256 (first 16)"), width="22%"),
        ],
    )
    for month, item in inputs.attachments:
        table.add(
            [
                month,
                item.target_ref,
                item.filename,
                MEDIA_TYPES.get(item.media_type, item.media_type),
                item.size_bytes,
                item.sha256[:16],
            ]
        )
    return table
