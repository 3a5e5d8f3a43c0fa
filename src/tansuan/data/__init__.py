"""Shipped reference tables: CSV files with a metadata file each, a source on every row."""
