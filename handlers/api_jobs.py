"""JSON API for the gallery's jobs: list, read, cancel, retry (a failed job, admins only).

Administrators see every job of the gallery; other signed-in users the jobs they asked
for (`payload.requested_by`). Another tenant's job id answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ReturnDocument

from gallery.errors import Conflict, Forbidden, Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id
from handlers.api_base import ApiHandler, int_query, operation
from jobs.queue import STATES

ID = r"([^/]+)"


def job_json(job: dict) -> dict:
    return {
        "id": job["_id"],
        "kind": job.get("kind"),
        "state": job.get("state"),
        "progress": job.get("progress", 0.0),
        "message": job.get("message", ""),
        "error": job.get("error"),
        "attempts": job.get("attempts", 0),
        "created": job.get("created"),
        "started": job.get("started"),
        "updated": job.get("updated"),
        "finished": job.get("finished"),
        "result": job.get("result"),
        "payload": {k: v for k, v in (job.get("payload") or {}).items() if k != "requested_by"},
    }


class JobApi(ApiHandler):
    async def visible_job(self, job_id: str) -> dict:
        self.require_user()
        viewer = await self.viewer()
        job = await self.queue.get(self.tenant.slug, job_id) if is_id(job_id) else None
        if job is None or not (
            viewer.is_admin or (job.get("payload") or {}).get("requested_by") == self.user["_id"]
        ):
            raise NotFound("No such job.")
        return job


class JobsHandler(JobApi):
    async def get(self) -> None:
        self.require_user()
        viewer = await self.viewer()
        states = [s for s in self.get_query_argument("state", "").split(",") if s]
        if any(s not in STATES for s in states):
            raise Invalid(
                f"state must be among: {', '.join(STATES)}.",
                field_errors={"state": "is not a job state"},
            )
        limit = self.int_argument("limit", 50, 1, 200)
        query: dict = {"tenant": self.tenant.slug}
        if states:
            query["state"] = {"$in": states}
        if not viewer.is_admin:
            query["payload.requested_by"] = self.user["_id"]
        jobs = await self.queue.jobs.find(query).sort("created", -1).limit(limit).to_list()
        self.write_json({"items": [job_json(j) for j in jobs]})


class JobHandler(JobApi):
    async def get(self, job_id: str) -> None:
        self.write_json({"job": job_json(await self.visible_job(job_id))})


class JobCancelHandler(JobApi):
    async def post(self, job_id: str) -> None:
        job = await self.visible_job(job_id)
        job = await self.queue.cancel(self.tenant.slug, job["_id"])
        self.write_json({"job": job_json(job)})


class JobRetryHandler(JobApi):
    async def post(self, job_id: str) -> None:
        job = await self.visible_job(job_id)
        if not (await self.viewer()).is_admin:
            raise Forbidden("Only gallery administrators retry jobs.")
        # One conditional write: of two clicks at once only one finds the job still failed,
        # so one new run; the other (and a retry of a job already requeued) gets it as it is.
        now = datetime.now(UTC)
        retried = await self.queue.jobs.find_one_and_update(
            {"_id": job["_id"], "tenant": self.tenant.slug, "state": "failed"},
            {"$set": {"state": "queued", "attempts": 0, "progress": 0.0, "message": "",
                      "run_after": now, "updated": now, "cancel_requested": False,
                      "last_error": job.get("error")},
             "$unset": {"error": "", "finished": "", "started": ""}},
            return_document=ReturnDocument.AFTER,
        )
        if retried is None:
            # Read again: `job` was read before the write, and the other click may have
            # requeued it in between (then it is queued, not failed any more).
            job = await self.visible_job(job_id)
            if job.get("state") not in ("queued", "running"):
                raise Conflict(Message("Only a failed job can be retried; this one is %(state)s.", state=job.get("state")))
            retried = job
        else:
            self.queue.wakeup.set()
        self.write_json({"job": job_json(retried)})


ROUTES = [
    (r"/api/v1/jobs", JobsHandler),
    (rf"/api/v1/jobs/{ID}/retry", JobRetryHandler),
    (rf"/api/v1/jobs/{ID}/cancel", JobCancelHandler),
    (rf"/api/v1/jobs/{ID}", JobHandler),
]

OPENAPI = {
    "/api/v1/jobs": {
        "get": operation(
            "The gallery's jobs, newest first", query=(
                {
                    "name": "state",
                    "schema": {"type": "array", "items": {"type": "string", "enum": list(STATES)}},
                },
                int_query("limit", 1, 200),
            ),
            tag="jobs",
        )
    },
    "/api/v1/jobs/{job_id}": {
        "get": operation("A job with its progress", params=("job_id",), tag="jobs")
    },
    "/api/v1/jobs/{job_id}/cancel": {
        "post": operation("Cancel a queued or running job", params=("job_id",), tag="jobs")
    },
    "/api/v1/jobs/{job_id}/retry": {
        "post": operation(
            "Run a failed job again (gallery administrators; a job already requeued is "
            "returned as it is)", params=("job_id",), tag="jobs",
        )
    },
}
