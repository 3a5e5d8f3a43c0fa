"""One :class:`Accountant` per organisation, rebuilt when a newer site model is loaded.

Several organisations share one deployment; each keeps its own newest site model.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from tansuan.accounting.engine import Accountant
from tansuan.accounting.results import VersionHook
from tansuan.errors import NotFound
from tansuan.store import Store
from tansuan.store.models import latest_version, models_by_org


class Accountants:
    """Cache of accountants keyed by organisation, valid for one model version."""

    def __init__(self, store: Store, *, hooks: Sequence[VersionHook] = ()) -> None:
        self.store = store
        self.hooks = tuple(hooks)
        self._version = -1
        self._by_org: dict[str, Accountant] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self.store.read() as connection:
            version = latest_version(connection)
            if version == self._version:
                return
            models = models_by_org(connection)
        self._by_org = {
            org: Accountant(self.store, m, hooks=self.hooks) for org, m in models.items()
        }
        self._version = version

    def of(self, org: str) -> Accountant:
        with self._lock:
            self._refresh()
            found = self._by_org.get(org)
        if found is None:
            raise NotFound("no site model is loaded for this organisation")
        return found

    def all(self) -> dict[str, Accountant]:
        with self._lock:
            self._refresh()
            return dict(self._by_org)

    def stale_hook(self, connection: Any, batch_id: int, rows: Any) -> None:
        """Ingest hook: every organisation's accountant marks what the batch touched."""
        for accountant in self.all().values():
            accountant.stale_hook(connection, batch_id, rows)

    def manual_hook(self, connection: Any, batch_id: int, entries: Any) -> None:
        """Manual-data hook: the same for imported entries."""
        for accountant in self.all().values():
            accountant.manual_hook(connection, batch_id, entries)
