"""`api/v1/jobs`: users' training jobs, their logs and metrics."""

import asyncio
import csv
import io
import json
import math
import time

from tornado.iostream import StreamClosedError

from ..errors import APIError
from ..jobs import ENDED
from ..models import Resource
from .base import APIHandler, whole_id
from .serializers import iso

JOB_STATES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "STOPPING", "STOPPED"]
JOB_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "user": {"type": "string"},
        "state": {"type": "string", "enum": JOB_STATES},
        "state_reason": {
            "type": "string",
            "nullable": True,
            "description": "Why it is in its state: exit code or signal, out of memory, "
            "max runtime exceeded, stopped by whom.",
        },
        "type": {
            "type": "string",
            "enum": ["job", "spark-batch"],
            "description": "What runs it: a job of yours, or a Livy batch (spark-submit).",
        },
        "spark_batch": {
            "type": "object",
            "nullable": True,
            "description": "A Livy batch's cluster_id, batch_id and file; null for a job.",
        },
        "spec": {"type": "object"},
        "output_dir": {"type": "string", "description": "Its folder, in your home."},
        "runtime_deadline": {"type": "string", "format": "date-time", "nullable": True},
        "deadline": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When the profile's daily time runs out (with what you run now) "
            "and stops it.",
        },
        "deadline_reason": {"type": "string", "nullable": True, "enum": ["daily_budget"]},
        "gpus": {
            "type": "array",
            "items": {"type": "string"},
            "description": "GPU devices it holds (CUDA_VISIBLE_DEVICES).",
        },
    },
}
CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "script": {
            "type": "string",
            "description": "A .py file or a notebook, relative to your home.",
        },
        "command": {"type": "array", "items": {"type": "string"}},
        "args": {"type": "array", "items": {"type": "string"}},
        "parameters": {
            "type": "object",
            "description": "A notebook's parameters, injected after its `parameters` cell.",
        },
        "profile": {"type": "string", "example": "cpu"},
        "working_dir": {"type": "string"},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "max_runtime_seconds": {"type": "integer", "minimum": 1},
        "metric_definitions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "regex": {"type": "string"}},
            },
        },
    },
}
OFFSET = {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}
SHOWN_SPEC = (
    "script",
    "command",
    "args",
    "parameters",
    "profile",
    "max_runtime_seconds",
    "metric_definitions",
)


def job_or_404(handler: APIHandler, job_id: str) -> Resource:
    return handler.jobs.get_or_raise(job_id, handler.may_see)


def job_json(handler: APIHandler, job: Resource) -> dict:
    spec = job.spec
    budget_deadline = handler.jobs.budget_deadline(job)
    return {
        "id": job.id,
        "name": job.name,
        "user": job.user,
        "state": handler.jobs.api_state(job),
        "state_reason": job.state_reason,
        # labdeck's marker of a job it runs for a Livy batch (no request can set it)
        "type": spec.get("type", "job"),
        "spark_batch": {key: spec[key] for key in ("cluster_id", "batch_id", "file")}
        if spec.get("type") == "spark-batch"
        else None,
        "spec": {
            **{key: spec.get(key) for key in SHOWN_SPEC},
            "working_dir": spec["cwd"],
            "env": sorted(spec.get("env", {})),  # names only: values may be secrets
        },
        "created": iso(job.created),
        "started": iso(job.started),
        "ended": iso(job.ended),
        "runtime_deadline": iso(handler.jobs.runtime_deadline(job)),
        # when its profile's daily time runs out, with what runs now
        "deadline": iso(budget_deadline),
        "deadline_reason": "daily_budget" if budget_deadline else None,
        "gpus": list(job.spec.get("gpus") or []),
        "output_dir": f"~/labdeck/jobs/{job.id}",
    }


def offset_argument(handler: APIHandler, name: str = "offset") -> int:
    text = handler.get_argument(name, "0") or "0"
    offset = whole_id(text)
    if offset is None:
        raise APIError(400, "invalid_offset", f"'{name}' must be a whole number of bytes.")
    return offset


def complete_utf8(data: bytes) -> bytes:
    """data without a character cut at its end (the next read starts with it)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:  # the lead byte of the last character
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= length else data[:-back]
    return data


class JobsHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "List jobs",
            "description": "Your jobs, newest first; admins see everyone's, or one "
            "user's with `?user=`.",
            "responses": {
                "200": {"description": "Jobs", "schema": {"type": "array", "items": JOB_SCHEMA}}
            },
        },
        "post": {
            "summary": "Start a training job",
            "description": "Runs a script of your home (with the lab's Python), a "
            "notebook (with papermill; its executed copy saved with the logs) or a "
            "command as your account, with the profile's CPU and memory, its output and "
            "metrics in ~/labdeck/jobs/<id>/. Limited by your `jobs` quota.",
            "request": CREATE_SCHEMA,
            "responses": {
                "201": {"description": "Starting", "schema": JOB_SCHEMA},
                "400": {"description": "A request that cannot run as asked"},
                "403": {"description": "As many jobs as your quota allows are running"},
            },
        },
    }

    async def get(self):
        self.write_json([job_json(self, j) for j in self.jobs.owned_by(self.whose())])

    async def post(self):
        if self.user.get("kind") != "user":
            raise APIError(403, "users_only", "Jobs belong to users.")
        body = self.get_json_body()
        name = self.user["name"]
        quota = self.quotas.quota_for(name, self.user.get("groups") or [])
        job = await self.jobs.create_job(name, body, quota)
        self.set_header("Location", f"{self.request.path}/{job.id}")
        self.write_json(job_json(self, job), 201)


class JobHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "One job",
            "responses": {"200": {"description": "The job", "schema": JOB_SCHEMA}},
        },
        "delete": {
            "summary": "Remove an ended job",
            "description": "Removes its record; `?files=true` also removes its folder.",
            "parameters": [
                {"name": "files", "in": "query", "schema": {"type": "boolean"}},
            ],
            "responses": {
                "204": {"description": "Removed"},
                "409": {"description": "It has not ended"},
            },
        },
    }

    async def get(self, id):
        self.write_json(job_json(self, job_or_404(self, id)))

    async def delete(self, id):
        job = job_or_404(self, id)
        files = self.get_argument("files", "false").lower()
        if files not in ("true", "false", "1", "0", ""):
            raise APIError(400, "invalid_files", "'files' must be true or false.")
        self.jobs.forget(job, files in ("true", "1"))
        self.set_status(204)
        self.finish()


class JobStopHandler(APIHandler):
    openapi = {
        "post": {
            "summary": "Stop a job",
            "description": "SIGTERM to its processes, a grace period, then SIGKILL; "
            "returns once none is left, the job STOPPED.",
            "responses": {
                "200": {"description": "Stopped", "schema": JOB_SCHEMA},
                "409": {"description": "It had already ended"},
            },
        }
    }

    async def post(self, id):
        job = job_or_404(self, id)
        who = "its owner" if job.user == self.user["name"] else "an admin"
        await self.jobs.stop(job, who)
        self.write_json(job_json(self, job_or_404(self, id)))


class JobLogsHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "A job's output",
            "description": "Its stdout and stderr from byte `offset` (up to 1 MiB); ask "
            "again from `next_offset` for more.",
            "parameters": [OFFSET],
            "responses": {
                "200": {
                    "description": "Output",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "offset": {"type": "integer"},
                            "next_offset": {"type": "integer"},
                            "size": {"type": "integer"},
                            "text": {"type": "string"},
                        },
                    },
                }
            },
        }
    }

    async def get(self, id):
        job = job_or_404(self, id)
        offset = offset_argument(self)
        data, size = self.jobs.read(job, "output.log", offset)
        data = complete_utf8(data)
        self.write_json(
            {
                "offset": offset,
                "next_offset": offset + len(data),
                "size": size,
                "text": data.decode(errors="replace"),
            }
        )


class JobLogsFollowHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Follow a job's output",
            "description": "Server-sent events: each `data` is a JSON string of output, "
            "its `id` the byte offset after it. A response carries what is new (waiting "
            "up to 15 s for some) and ends, so that proxies which buffer responses pass "
            "it on at once; an EventSource reconnects by itself (`retry`), resuming with "
            "`Last-Event-ID` (or `?offset=`). An `end` event says the job has ended and "
            "all its output was sent.",
            "parameters": [OFFSET],
            "responses": {"200": {"description": "An event stream"}},
        }
    }

    POLL_SECONDS = 0.25
    WAIT_SECONDS = 15.0  # below the hub proxy's 20 s request timeout
    RETRY_MS = 250

    async def get(self, id):
        job = job_or_404(self, id)
        resume = self.request.headers.get("Last-Event-ID")
        offset = whole_id(resume) if resume else offset_argument(self)
        if offset is None:
            raise APIError(400, "invalid_offset", "'Last-Event-ID' must be a byte offset.")
        self.set_header("Content-Type", "text/event-stream")
        self.write(f"retry: {self.RETRY_MS}\n\n")
        give_up = time.monotonic() + self.WAIT_SECONDS
        sent = False
        try:
            while True:
                # ended before the read: the read gets all the output there will be
                ended = job.state in ENDED
                data, _ = self.jobs.read(job, "output.log", offset)
                data = complete_utf8(data)
                if data:
                    offset += len(data)
                    text = json.dumps(data.decode(errors="replace"))
                    self.write(f"id: {offset}\ndata: {text}\n\n")
                    await self.flush()
                    sent = True
                elif ended:
                    state = json.dumps(self.jobs.api_state(job))
                    self.write(f"id: {offset}\nevent: end\ndata: {state}\n\n")
                    break
                elif sent or time.monotonic() >= give_up:
                    break
                else:
                    await asyncio.sleep(self.POLL_SECONDS)
                    job = self.jobs.get(id) or job
        except StreamClosedError:
            return  # the client went away; it resumes from the last id it saw
        self.finish()


def _point(line: bytes) -> dict | None:
    """One metrics.jsonl line, checked (the job's account writes that file)."""
    try:
        point = json.loads(line)
    except ValueError:
        return None
    if not isinstance(point, dict) or not isinstance(point.get("values"), dict):
        return None
    values = {
        str(name)[:64]: value
        for name, value in point["values"].items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }
    t, step = point.get("t"), point.get("step")
    return {
        "t": t if isinstance(t, int | float) and math.isfinite(t) else None,
        "source": point.get("source")
        if point.get("source") in ("log", "script", "system")
        else None,
        "step": step if isinstance(step, int) and not isinstance(step, bool) else None,
        "values": values,
    }


def metrics_csv(points: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["t", "source", "step", "name", "value"])
    for point in points:
        for name, value in point["values"].items():
            # a name is the job's own text: never a formula when opened in a spreadsheet
            safe = "'" + name if name[:1] in ("=", "+", "-", "@") else name
            writer.writerow([point["t"], point["source"], point["step"], safe, value])
    return out.getvalue()


class JobMetricsHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "A job's metrics",
            "description": "Points, oldest first: `source` log (the metric definitions' "
            "regexes over its output), script (`labdeck.metrics.log`) or system, every "
            "500 ms: `cpu_percent` and `rss_bytes` of its processes, and for each of its "
            "GPUs `gpu<N>_utilization_percent` and `gpu<N>_memory_bytes` (N: the NVML "
            "index). For more, ask again with `since` = the `next_since` of the answer.",
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "csv"]},
                    "description": "csv: one row per value (t, source, step, name, value), "
                    "as a download.",
                },
            ],
            "responses": {
                "200": {
                    "description": "Points",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "points": {"type": "array", "items": {"type": "object"}},
                            "next_since": {"type": "integer"},
                        },
                    },
                }
            },
        }
    }

    async def get(self, id):
        job = job_or_404(self, id)
        since = offset_argument(self, "since")
        form = self.get_argument("format", "json")
        if form not in ("json", "csv"):
            raise APIError(400, "invalid_format", "'format' must be json or csv.")
        data, _ = self.jobs.read(job, "metrics.jsonl", since)
        whole = data[: data.rfind(b"\n") + 1]  # a line being written is sent next time
        points = [p for p in map(_point, whole.splitlines()) if p is not None]
        if form == "csv":
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.set_header("Content-Disposition", f'attachment; filename="{job.id}-metrics.csv"')
            self.finish(metrics_csv(points))
            return
        self.write_json({"points": points, "next_since": since + len(whole)})


default_handlers = [
    ("api/v1/jobs", JobsHandler),
    ("api/v1/jobs/{id}", JobHandler),
    ("api/v1/jobs/{id}/stop", JobStopHandler),
    ("api/v1/jobs/{id}/logs", JobLogsHandler),
    ("api/v1/jobs/{id}/logs/follow", JobLogsFollowHandler),
    ("api/v1/jobs/{id}/metrics", JobMetricsHandler),
]
