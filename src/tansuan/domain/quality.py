"""Quality flags of a measured value (HJ 212-2017 Table 8), as every layer reads them.

A gateway decodes the flag a data logger sends, ingest stores it with the reading, the
store leaves flagged values out of its hourly and daily rollups, and accounting applies
the HJ 75-2017 substitution rules to the hours they leave open.
"""

from __future__ import annotations

#: Quality flags (HJ 212-2017 Table 8). N normal; F instrument stopped; M maintenance;
#: S manually set value; D instrument fault; C calibration; T above the upper measuring
#: limit; B instrument <-> data-logger communication fault.
HJ212_FLAGS = frozenset("NFMSDCTB")
#: Set by tansuan, never by a device: the value failed a plausibility check at the gateway
#: (e.g. its DataTime is later than the time in its packet's QN), so a corruption the
#: CRC let through may have moved it. Stored for audit, but not a valid measurement.
IMPLAUSIBLE = "P"
#: What each non-standard flag means, for pages and problem texts.
FLAG_DESCRIPTIONS = {
    IMPLAUSIBLE: "不可信：未通过网关合理性检查 / implausible: failed a gateway plausibility check",
}
#: Every flag a stored reading may carry.
QUALITY_FLAGS = HJ212_FLAGS | {IMPLAUSIBLE}
#: Flags whose values are not valid measurements (HJ 212 Appendix C notes, HJ 75).
INVALID_FLAGS = frozenset("FMDCB" + IMPLAUSIBLE)
