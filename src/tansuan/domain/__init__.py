"""The pure core: units, gases and GWP sets, the factor catalog and the accounting methods.

Nothing in this package does I/O at call time (the shipped reference tables are read
once, lazily, from package data), looks at a clock, logs, or imports anything of
tansuan outside ``tansuan.domain`` and ``tansuan.errors``.
"""
