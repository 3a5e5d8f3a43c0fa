"""tansuan.ingest."""
