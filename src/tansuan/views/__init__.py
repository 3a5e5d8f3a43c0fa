"""Read models shared by the web app and the CLI.

Each module assembles one answer from the store and the site model — findings, savings,
the emissions forecast, the allowance position, alerts, EnPIs, emissions of a node, the
dashboard overview, data quality — and returns plain data (dicts, lists, dataclasses)
that the API serialises, the dashboard renders and the CLI prints. The arithmetic lives
in :mod:`tansuan.analytics`, :mod:`tansuan.accounting` and :mod:`tansuan.market`; access
control (who may read a site) stays with the caller.
"""
