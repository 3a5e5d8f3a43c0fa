"""tansuan.store."""
