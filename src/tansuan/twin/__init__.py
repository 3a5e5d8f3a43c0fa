"""The digital twin: a seeded, vectorised plant simulator, the demo sites and what-if runs.

One module per concept: :mod:`.calendar` (shifts, local time), :mod:`.weather`,
:mod:`.fans` (fans and pumps by the affinity laws), :mod:`.compressor`, :mod:`.boiler`
(fuel → flue gas), :mod:`.analyser` (CEMS drift and calibration), :mod:`.meter`
(cumulative registers), :mod:`.faults`; :mod:`.plant` drives them from a site model,
:mod:`.history` backfills the store, :mod:`.live` speaks the real protocols,
:mod:`.scenario` runs what-ifs.
"""

#: The demo sites shipped in ``twin/sites/`` (kept here, import-light, for the CLI's help).
DEMOS = ("shipyard", "coal-unit", "cement")
#: The demo site used when none is named.
DEFAULT = "shipyard"
