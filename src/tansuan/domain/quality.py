"""Quality flags of a measured value (HJ 212-2017 Table 8), as every layer reads them.

A gateway decodes the flag a data logger sends, ingest stores it with the reading, the
store leaves flagged values out of its hourly and daily rollups, and accounting applies
the HJ 75-2017 substitution rules to the hours they leave open.
"""

from __future__ import annotations

#: Quality flags (HJ 212-2017 Table 8). N normal; F instrument stopped; M maintenance;
#: S manually set value; D instrument fault; C calibration; T above the upper measuring
#: limit; B instrument <-> data-logger communication fault.
QUALITY_FLAGS = frozenset("NFMSDCTB")
#: Flags whose values are not valid measurements (HJ 212 Appendix C notes, HJ 75).
INVALID_FLAGS = frozenset("FMDCB")
