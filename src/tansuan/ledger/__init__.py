"""tansuan.ledger."""
