"""`api/v1/clusters`: users' Spark clusters."""

from ...spark.quota import SPARK_QUOTA
from ...spark.spec import ClusterSpec, SpecError
from ..errors import APIError
from ..models import Resource
from ..resources import STATES
from .base import APIHandler
from .serializers import iso

CLUSTER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "user": {"type": "string"},
        "state": {
            "type": "string",
            "enum": list(STATES),
        },
        "state_reason": {"type": "string", "nullable": True},
        "progress": {"type": "object"},
        "spec": {"type": "object"},
        "workers_alive": {"type": "integer"},
        "cores": {"type": "integer"},
        "memory_mb": {"type": "integer"},
        "applications": {"type": "array", "items": {"type": "object"}},
        "idle_terminates_at": {"type": "string", "format": "date-time", "nullable": True},
        "deadline": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When the owner's running clusters will have spent their daily "
            "core time and are terminated (while it runs), or null.",
        },
        "deadline_reason": {"type": "string", "nullable": True, "enum": ["daily_budget"]},
        "warn_before_seconds": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "Seconds before the deadline at which clients warn.",
        },
        "livy_url": {"type": "string"},
        "spark_ui_url": {"type": "string"},
    },
}
CREATE_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "workers": {"type": "integer", "minimum": 1},
        "worker_cores": {"type": "integer", "minimum": 1},
        "worker_memory": {"type": "string", "example": "1g"},
        "idle_timeout_seconds": {"type": "integer", "minimum": 60, "maximum": 604800},
    },
}


def cluster_or_404(handler: APIHandler, cluster_id: str) -> Resource:
    return handler.clusters.get_or_raise(cluster_id, handler.may_see)


async def cluster_json(handler: APIHandler, cluster: Resource, detail: bool = False) -> dict:
    clusters = handler.clusters
    base = handler.service.base_url.rstrip("/")
    deadline, deadline_reason = clusters.budget.deadline(cluster)
    data = {
        "id": cluster.id,
        "name": cluster.name,
        "user": cluster.user,
        "state": cluster.state,
        "state_reason": cluster.state_reason,
        "progress": cluster.progress,
        "spec": clusters.spec(cluster).to_json(),
        "created": iso(cluster.created),
        "started": iso(cluster.started),
        "ended": iso(cluster.ended),
        "idle_terminates_at": iso(clusters.idle_deadline(cluster)),
        "deadline": iso(deadline),
        "deadline_reason": deadline_reason,
        "warn_before_seconds": list(handler.service.policy.warn_before_seconds),
        "livy_url": f"{base}/api/v1/clusters/{cluster.id}/livy",
        "spark_ui_url": f"{base}/clusters/{cluster.id}/ui/",
    }
    if detail and cluster.state == "RUNNING":
        data.update(await clusters.detail(cluster))
    return data


class ClustersHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "List clusters",
            "description": "Your clusters, newest first; admins see everyone's.",
            "responses": {
                "200": {
                    "description": "Clusters",
                    "schema": {"type": "array", "items": CLUSTER_SCHEMA},
                }
            },
        },
        "post": {
            "summary": "Create a Spark cluster",
            "description": "Starts a standalone master and workers. Returns at once in "
            "state STARTING; follow `progress` until RUNNING. Limited by your Spark quota.",
            "request": CREATE_SCHEMA,
            "responses": {
                "201": {"description": "Starting", "schema": CLUSTER_SCHEMA},
                "400": {"description": "Malformed request"},
                "403": {
                    "description": "Over your Spark limits, or your daily Spark "
                    "core time is used up"
                },
            },
        },
    }

    async def get(self):
        owner = None if self.is_admin else self.user["name"]
        self.write_json([await cluster_json(self, c) for c in self.clusters.owned_by(owner)])

    async def post(self):
        if self.user.get("kind") != "user":
            raise APIError(403, "users_only", "Clusters belong to users.")
        try:
            spec = ClusterSpec.from_request(self.get_json_body())
        except SpecError as e:
            raise APIError(400, "invalid_cluster", str(e)) from e
        name = self.user["name"]
        limits = self.quotas.limits(name, self.user.get("groups") or [], SPARK_QUOTA.name)
        cluster = self.clusters.create_cluster(name, spec, limits)
        self.set_header("Location", f"{self.request.path}/{cluster.id}")
        self.write_json(await cluster_json(self, cluster), 201)


class ClusterHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "One cluster",
            "description": "State, start progress, workers alive, cores, memory and "
            "running applications.",
            "responses": {"200": {"description": "The cluster", "schema": CLUSTER_SCHEMA}},
        },
        "delete": {
            "summary": "Terminate a cluster",
            "description": "Stops its sessions, workers and master; returns once no "
            "process is left.",
            "responses": {"204": {"description": "Terminated"}},
        },
    }

    async def get(self, id):
        self.write_json(await cluster_json(self, cluster_or_404(self, id), detail=True))

    async def delete(self, id):
        cluster = cluster_or_404(self, id)
        who = "its owner" if cluster.user == self.user["name"] else "an admin"
        await self.clusters.terminate(cluster.id, f"Terminated by {who}.")
        self.set_status(204)
        self.finish()


default_handlers = [
    ("api/v1/clusters", ClustersHandler),
    ("api/v1/clusters/{id}", ClusterHandler),
]
