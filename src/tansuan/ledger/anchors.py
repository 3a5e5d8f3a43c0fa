"""Tree heads anchored outside the database, and the checks of the database against them.

A signed tree head kept only in the database it covers proves nothing against someone who
holds that database file: they can delete every head, rewrite a leaf, or cut the log's
tail together with the heads that covered it. So every head the log issues is also
appended to the **anchor file** ``<data_dir>/ledger/anchors.jsonl`` — one head per line,
the JSON of :meth:`TreeHead.to_json`, written with ``O_APPEND`` and fsync'd before the
issuing call returns (see docs/ledger.md, "Anchored tree heads").

:func:`tansuan.ledger.verify_anchors.check_anchored` compares a log (a
:class:`~tansuan.ledger.sources.Source`) with the anchored heads and with a verifier's
own copies of heads (from a receipt):

* each anchored head must verify under the log's key (``anchor_signature_invalid``);
* leaves present but no tree head in the database (``sth_none``);
* an anchored head missing from the database (``anchor_head_missing``);
* the database's latest head older than the latest anchored one (``sth_stale``);
* the root of the first N leaves, recomputed from each leaf's kind, ref and payload,
  must equal each anchored root (``anchor_leaves_missing``, ``anchor_root_mismatch``) —
  this holds even when every head in the database was deleted;
* a verifier's own head must be consistent with the database's latest head by an
  RFC 9162 consistency proof (``head_inconsistent``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tansuan.errors import InputError, LedgerError
from tansuan.ledger.signing import TreeHead, key_dir

ANCHOR_FILE = "anchors.jsonl"


def anchor_path(data_dir: Path) -> Path:
    """The anchor file of the log whose key lives under ``data_dir``."""
    return key_dir(Path(data_dir)) / ANCHOR_FILE


def _line(head: TreeHead) -> bytes:
    return (json.dumps(head.to_json(), sort_keys=True, separators=(",", ":")) + "\n").encode()


class AnchorFile:
    """An append-only file of signed tree heads, one JSON object a line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, head: TreeHead) -> None:
        """Append ``head`` and fsync it (and the folder when the file is new).

        Raises :class:`LedgerError` when the head cannot be written: a head that is not
        anchored must not pass unnoticed.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, _line(head))
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                folder = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
        except OSError as error:
            raise LedgerError(
                f"树头未能锚定 / could not append the tree head (size {head.tree_size}) to the "
                f"anchor file {self.path}: {error}"
            ) from error

    def read(self) -> tuple[list[TreeHead], list[str]]:
        """The heads in file order, and a description of each line that is not a head."""
        if not self.path.exists():
            return [], []
        heads: list[TreeHead] = []
        problems: list[str] = []
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    doc = json.loads(raw)
                    if not isinstance(doc, dict):
                        raise InputError("not a JSON object", field="line")
                    heads.append(TreeHead.from_json(doc, field=f"line {number}"))
                except (ValueError, InputError) as error:
                    problems.append(f"{self.path} line {number}: {error}")
        return heads, problems
