"""The one place that wires store, ledger, accounting and ingest together.

``tansuan serve``, ``tansuan gateway …`` and the web app all take readings through the
same :class:`Platform`: one :class:`~tansuan.store.Store`, one
:class:`~tansuan.ingest.ingestor.Ingestor` whose batch hooks append every committed
batch to the tamper-evident ledger and mark the accounting months it touched stale,
and one :class:`~tansuan.accounting.engine.Accountant` whose every saved result version
is appended to the ledger too — all inside the same database transactions.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from tansuan.accounting.engine import Accountant
from tansuan.accounting.filing import proposal_hook
from tansuan.accounting.registry import Accountants
from tansuan.accounting.results import ResultSet, stored_trace
from tansuan.errors import NotFound, TansuanError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.ingest.result import BatchRows, IngestResult
from tansuan.ledger import bound, inputs
from tansuan.ledger.log import Ledger
from tansuan.settings import Settings, get_settings
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.documents import current_model
from tansuan.store.manual import Entry
from tansuan.store.timeutil import from_us

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """A running tansuan: the store and everything that writes to it."""

    settings: Settings
    store: Store
    ledger: Ledger
    ingestor: Ingestor
    accountant: Accountant | None  #: for the model last loaded (the CLI's)
    model: SiteModel | None
    accountants: Accountants  #: one per organisation (several tenants, one store)
    source: str = "api"

    def sink(self, readings: Sequence[Reading]) -> IngestResult:
        """The gateways' :data:`~tansuan.gateways.base.Sink`: returns after commit."""
        return self.ingestor.ingest(readings, source=self.source)

    def for_source(self, source: str) -> Platform:
        """The same platform, labelling its ingest batches with ``source`` (hj212, mqtt…)."""
        return Platform(
            self.settings,
            self.store,
            self.ledger,
            self.ingestor,
            self.accountant,
            self.model,
            self.accountants,
            source,
        )

    @property
    def manual_hooks(self) -> list[Any]:
        """Hooks for manual-data imports: a ledger leaf per entry written, and the
        accounting stale marks (every organisation)."""
        return [ledger_manual_hook(self.ledger), self.accountants.manual_hook]

    @property
    def model_hooks(self) -> list[Any]:
        """Hooks for site-model loads: a ``site_model`` leaf per version loaded, in the
        load's transaction."""
        return [inputs.site_model_hook(self.ledger)]

    def load_model(self, model: SiteModel, source: str = "") -> Any:
        """Load a site model into the store with its ``site_model`` leaf."""
        return self.store.load_model(model, source, hooks=self.model_hooks)

    def replace_meter(
        self,
        site: str,
        point: str,
        at_us: int,
        final: float,
        initial: float,
        reason: str,
        *,
        by: str = "",
    ) -> dict[str, Any]:
        """Declare a meter replacement (``tansuan replace-meter``): stored with a ledger
        leaf, the point's rollups rebuilt and the months it touches marked stale, in one
        transaction."""
        ledger, accountants = self.ledger, self.accountants

        def leaf(connection: Connection, payload: dict[str, Any]) -> None:
            ledger.append(
                connection,
                "meter_replacement",
                f"meter/{payload['site']}/{payload['point']}/{payload['at_us']}",
                payload,
            )

        def stale(connection: Connection, payload: dict[str, Any]) -> None:
            for accountant in accountants.all().values():
                if accountant.model is None:
                    continue
                if payload["site"] in {s.id for s in accountant.model.sites()}:
                    accountant.mark_stale_for_points(
                        connection,
                        payload["site"],
                        {payload["point"]: [payload["at_us"]]},
                        f"meter {payload['point']} replaced at "
                        f"{from_us(payload['at_us']).isoformat()}",
                    )

        return self.ingestor.replace_meter(
            site, point, at_us, final, initial, reason, by=by, hooks=[leaf, stale]
        )

    def close(self) -> None:
        """Sign a tree head when this process appended leaves (see docs/ledger.md: every
        process that appends issues heads), then close the store."""
        try:
            self.ledger.sign_pending(self.store.engine)
        finally:
            self.store.close()


def ledger_batch_hook(ledger: Ledger) -> Any:
    """Ingest hook: one ledger leaf per committed batch, covering each reading in it."""

    def hook(connection: Connection, batch_id: int, rows: BatchRows) -> None:
        ledger.ingest_columns_hook(connection, batch_id, rows)

    return hook


def ledger_manual_hook(ledger: Ledger) -> Any:
    """Manual-data hook: one ``manual_entry`` leaf per entry version the import wrote,
    with the uploaded file's SHA-256, in the import's transaction."""

    def hook(connection: Connection, batch_id: int, entries: Sequence[Entry]) -> None:
        digests = {e.file_sha256 for e in entries}
        bound.append_manual_entries(
            ledger, connection, batch_id, digests.pop() if len(digests) == 1 else None
        )

    return hook


def ledger_result_hook(ledger: Ledger) -> Any:
    """Accounting hook: one ledger leaf per saved emission-result version."""

    def hook(connection: Connection, set_id: int, result: ResultSet, version: int) -> None:
        gwp = result.inputs.get("gwp") if isinstance(result.inputs, dict) else None
        bound_inputs = inputs.result_inputs(
            ledger,
            connection,
            site=result.site_id,
            source=result.source_id,
            period=result.period,
            gwp=None if gwp is None else str(gwp),
        )
        payload = bound.result_payload(
            set_id,
            site=result.site_id,
            source=result.source_id,
            period=result.period,
            version=version,
            method=result.method,
            inputs_digest=result.digest(),
            lines=[(ln.gas, ln.scope, ln.mass_g, ln.co2e_g) for ln in result.lines],
            state=result.state,
            problem=result.problem,
            trace=stored_trace(result),
        )
        payload["inputs"] = bound_inputs
        ledger.append(
            connection,
            bound.RESULT_KIND,
            bound.result_ref(result.site_id, result.source_id, result.period, version),
            payload,
        )

    return hook


def open_platform(settings: Settings | None = None, *, store: Store | None = None) -> Platform:
    """Open the store (schema upgraded), the ledger key and the current site model."""
    settings = settings or get_settings()
    store = store or Store(settings=settings)
    ledger = Ledger.from_data_dir(settings.data_dir, witness_url=settings.ledger_witness_url)
    try:
        model: SiteModel | None = current_model(store)
    except NotFound:
        model = None
    result_hooks = [ledger_result_hook(ledger), proposal_hook(ledger)]
    accountant = Accountant(store, model, hooks=result_hooks) if model is not None else None
    accountants = Accountants(store, hooks=result_hooks)
    hooks = [ledger_batch_hook(ledger), accountants.stale_hook]
    return Platform(
        settings, store, ledger, Ingestor(store, batch_hooks=hooks), accountant, model, accountants
    )


def open_gateway_sink(settings: Settings, source: str) -> Callable[[Sequence[Reading]], object]:
    """A stand-alone gateway's sink: the ingest entry of a platform opened for
    ``settings``, labelling its batches with ``source`` (hj212, mqtt, …). The opener
    ``tansuan gateway …`` hands to :func:`tansuan.gateways.runtime.make_sink`."""
    return open_platform(settings).for_source(source).sink


def open_standalone_gateway_sink(
    settings: Settings, source: str
) -> Callable[[Sequence[Reading]], object]:
    """:func:`open_gateway_sink` for a gateway running as its own process (``tansuan
    gateway …``): the process also issues tree heads on the ledger's schedule
    (:func:`start_tree_heads`), as ``serve`` does."""
    platform = open_platform(settings).for_source(source)
    start_tree_heads(platform, settings.ledger_sth_interval_s)
    return platform.sink


def start_tree_heads(platform: Platform, interval_s: float) -> threading.Event:
    """A stand-alone process's tree-head schedule, as ``serve`` runs it: a head now and
    then every ``interval_s`` [s] (each also anchored outside the database), in a daemon
    thread; at a normal exit, one more head if leaves were appended since the last.
    Returns the event that stops the schedule."""
    stop = threading.Event()
    ledger, engine = platform.ledger, platform.store.engine

    def loop() -> None:
        while True:
            try:
                head = ledger.issue_sth_now(engine)
                log.info("signed tree head: size %d", head.tree_size)
            except TansuanError:
                log.exception("scheduled signed tree head failed; will retry")
            if stop.wait(interval_s):
                return

    def final() -> None:
        stop.set()
        try:
            ledger.sign_pending(engine)
        except TansuanError:
            log.exception("the last signed tree head at exit failed")

    threading.Thread(target=loop, name="tansuan-tree-heads", daemon=True).start()
    atexit.register(final)
    return stop
