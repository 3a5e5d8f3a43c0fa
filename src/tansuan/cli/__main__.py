"""``python -m tansuan.cli``: the same as the ``tansuan`` command."""

from tansuan.cli import main

main()
