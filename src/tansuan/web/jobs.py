"""Background jobs of the web server (large manual-data imports), with their progress.

A job runs in a thread of its own, off the event loop; its work reports progress through
the :class:`Job` it is given. Jobs live in the server's memory (the last
``TANSUAN_UPLOAD_JOBS_KEPT`` finished ones are remembered; a restart forgets them — what
a job committed is in the store either way, with its batches). A job belongs to the
organisation that started it: another organisation asking for it gets 404, as for any
id it cannot see.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tansuan.errors import NotFound, TansuanError
from tansuan.store.users import Principal

log = logging.getLogger(__name__)

#: The owner key of jobs started with the deployment-wide legacy ingest token.
DEPLOYMENT = "*deployment*"


def owner_of(principal: Principal) -> str:
    """Whose a job is: the caller's organisation (or the deployment-wide token)."""
    return DEPLOYMENT if principal.deployment_wide else principal.org


@dataclass
class Job:
    """One background job and its progress (``rows_done`` of ``rows_total``)."""

    id: str
    kind: str
    owner: str
    rows_total: int
    status: str = "queued"  # queued → running → done | failed
    rows_done: int = 0
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "result": self.result,
            "error": self.error,
            "location": f"/api/v1/jobs/{self.id}",
        }


@dataclass
class Jobs:
    """The server's jobs (``app.state.jobs``)."""

    kept: int
    _jobs: OrderedDict[str, Job] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self,
        kind: str,
        principal: Principal,
        rows_total: int,
        work: Callable[[Job], dict[str, Any]],
    ) -> Job:
        """Register a job and run ``work(job)`` in a thread; its return value is the result."""
        job = Job(uuid.uuid4().hex, kind, owner_of(principal), rows_total)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, work), name=f"job-{job.id[:8]}", daemon=True
        )
        thread.start()
        return job

    def get(self, job_id: str, principal: Principal) -> Job:
        """The caller's job ``job_id``; 404 when unknown or another organisation's."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner_of(principal):
            raise NotFound(f"没有任务 {job_id!r} / no job {job_id!r}")
        return job

    def _run(self, job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        job.status = "running"
        try:
            job.result = work(job)
            job.status = "done"
        except TansuanError as exc:
            job.error, job.status = exc.message, "failed"
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc.message)
        except Exception as exc:  # a job must end with a visible status, whatever broke
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
            log.exception("job %s (%s) failed", job.id, job.kind)
        finally:
            job.finished_at = time.time()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.finished_at is not None]
        for job_id in finished[: max(0, len(finished) - self.kept)]:
            del self._jobs[job_id]
