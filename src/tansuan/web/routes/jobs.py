"""``GET /api/v1/jobs/{id}``: the status and progress of a background job (a large
manual-data import), for the organisation that started it (another gets 404)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tansuan.web.deps import PrincipalDep
from tansuan.web.jobs import Jobs
from tansuan.web.schemas import Out

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class JobOut(Out):
    """A background job: ``status`` queued, running, done or failed; ``rows_done`` of
    ``rows_total`` (refused rows count as done); ``result`` (as the synchronous answer)
    when done, ``error`` when failed."""

    id: str
    kind: str
    status: str
    rows_total: int
    rows_done: int
    result: dict[str, Any] | None
    error: str | None
    location: str


def jobs_of(request: Request) -> Jobs:
    """The app's jobs (``app.state.jobs``, set by ``create_app``)."""
    jobs: Jobs = request.app.state.jobs
    return jobs


@router.get("/{job_id}", response_model=JobOut, summary="A background job / 后台任务")
def get_job(job_id: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """The job's status and progress; 404 for an unknown job or another organisation's."""
    return jobs_of(request).get(job_id, principal).public()
