"""One :class:`Accountant` per organisation, rebuilt when a newer site model is loaded."""

from __future__ import annotations

import threading

from tansuan.accounting.engine import Accountant
from tansuan.errors import NotFound
from tansuan.store import Store
from tansuan.store.models import latest_version, models_by_org


class Accountants:
    """Cache of accountants keyed by organisation, valid for one model version."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._version = -1
        self._by_org: dict[str, Accountant] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self.store.read() as connection:
            version = latest_version(connection)
            if version == self._version:
                return
            models = models_by_org(connection)
        self._by_org = {org: Accountant(self.store, m) for org, m in models.items()}
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
