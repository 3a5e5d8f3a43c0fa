"""tansuan (碳算): count a plant's carbon precisely enough to trade on it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tansuan")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
