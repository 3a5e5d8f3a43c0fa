"""The accounting engine: runs the domain methods over stored data for a source and period."""
