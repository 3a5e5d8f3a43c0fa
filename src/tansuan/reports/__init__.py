"""Reports: the national ETS annual report, a GHG inventory and the energy report.

Builders read accounting results and never recompute them (``annual``, ``inventory``,
``energy``); ``formats`` lays a report out as HTML, PDF or XLSX; ``receipt`` logs an issued
report in the ledger. ``api.render(kind, site, year, month, fmt, lang) -> bytes`` is the
function the dashboard calls. See docs/reports.md.
"""
