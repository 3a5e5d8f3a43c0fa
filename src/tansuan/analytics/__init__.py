"""Energy analytics: baselines (ISO 50006), CUSUM monitoring, IPMVP savings, findings, forecasts.

Pure numpy on arrays; what reads the store is in :mod:`tansuan.views`.
"""
