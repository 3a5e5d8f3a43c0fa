"""tansuan.gateways."""
