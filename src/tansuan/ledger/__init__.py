"""tansuan.ledger: the tamper-evident, append-only Merkle log (see docs/ledger.md).

The public surface::

    ledger = Ledger.from_data_dir(settings.data_dir)   # key pair created on first use
    create_tables(engine)                               # a ledger-only database; the store's
                                                        # migrations make them in its own
    ledger.ingest_hook(connection, batch_id, rows)      # ingest, inside the batch transaction
    ledger.append(connection, "report", ref, payload)   # every other kind of leaf
    ledger.issue_sth(connection) / run_schedule(...)    # signed tree heads
    api.inclusion_proof_json / consistency_proof_json / receipt_for / sth_json
    verify_source(LiveSource(...) | ExportSource(...)), verify_receipt(receipt)
"""

from tansuan.ledger.log import Entry, Ledger
from tansuan.ledger.schema import create_tables
from tansuan.ledger.sources import ExportSource, LiveSource, write_export
from tansuan.ledger.verify import verify_receipt, verify_source

__all__ = [
    "Entry",
    "ExportSource",
    "Ledger",
    "LiveSource",
    "create_tables",
    "verify_receipt",
    "verify_source",
    "write_export",
]
