"""tansuan.site."""
