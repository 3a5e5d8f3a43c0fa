"""tansuan (碳算): count a plant's carbon precisely enough to trade on it."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use (importing
    :mod:`importlib.metadata` costs every CLI start ~50 ms)."""
    if name != "__version__":
        raise AttributeError(f"module 'tansuan' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # deferred: start-up time

    try:
        return version("tansuan")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+unknown"
