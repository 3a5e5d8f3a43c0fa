"""Child process for the durability tests (run as a script, killed with SIGKILL).

usage: durability_child.py URL ack|hang

``ack``: ingest batches of 500 readings forever, printing ``ACK <k> <batch id>`` after
each ``ingest()`` returned. ``hang``: like ack, but the third batch's hook prints
``IN_TXN <batch id>`` inside the transaction and sleeps, so the parent can kill it
before the batch commits.
"""

from __future__ import annotations

import sys
import time

from tansuan.ingest.ingestor import Ingestor
from tansuan.store import Store

T0_US = 1_793_491_200_000_000
ROWS = 500


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    store = Store(url)
    calls = {"n": 0}

    def hook(connection, batch_id, rows) -> None:  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if mode == "hang" and calls["n"] == 3:
            sys.stdout.write(f"IN_TXN {batch_id}\n")
            sys.stdout.flush()
            time.sleep(120)

    ingestor = Ingestor(store, batch_hooks=[hook], compact_rows=1200)
    k = 0
    while True:
        first = T0_US + k * ROWS * 60_000_000
        points = ["energy", "power"] * (ROWS // 2) + ["nope"]
        ts = [first + (i // 2) * 60_000_000 for i in range(ROWS)] + [first]
        values = [float(k * ROWS + i) if i % 2 == 0 else 1.0 for i in range(ROWS)] + [0.0]
        result = ingestor.ingest_columns("site", points, ts, values)
        assert result.new == ROWS and result.rejected == 1
        sys.stdout.write(f"ACK {k} {result.batch_id}\n")
        sys.stdout.flush()
        k += 1


if __name__ == "__main__":
    main()
