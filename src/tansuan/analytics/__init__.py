"""Energy analytics: baselines (ISO 50006), CUSUM monitoring, IPMVP savings, findings, forecasts.

Pure numpy on arrays; the store-facing glue is in :mod:`tansuan.cli.analyse`.
"""
