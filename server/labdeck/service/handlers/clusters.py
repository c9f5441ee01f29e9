"""`api/v1/clusters`: users' Spark clusters."""

from ...spark.spec import ClusterSpec, SpecError
from ..errors import APIError
from ..models import Cluster
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
            "enum": ["STARTING", "RUNNING", "TERMINATING", "TERMINATED", "FAILED"],
        },
        "state_reason": {"type": "string", "nullable": True},
        "progress": {"type": "object"},
        "spec": {"type": "object"},
        "workers_alive": {"type": "integer"},
        "cores": {"type": "integer"},
        "memory_mb": {"type": "integer"},
        "applications": {"type": "array", "items": {"type": "object"}},
        "idle_terminates_at": {"type": "string", "format": "date-time", "nullable": True},
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


def cluster_or_404(handler: APIHandler, cluster_id: str) -> Cluster:
    cluster = handler.service.clusters.get(cluster_id)
    if cluster is None or not handler.may_see(cluster.user):
        raise APIError(404, "not_found", f"There is no cluster {cluster_id}.")
    return cluster


async def cluster_json(handler: APIHandler, cluster: Cluster, detail: bool = False) -> dict:
    service = handler.service
    base = service.base_url.rstrip("/")
    data = {
        "id": cluster.id,
        "name": cluster.name,
        "user": cluster.user,
        "state": cluster.state,
        "state_reason": cluster.state_reason,
        "progress": cluster.progress,
        "spec": ClusterSpec(**cluster.spec).to_json(),
        "created": iso(cluster.created),
        "started": iso(cluster.started),
        "ended": iso(cluster.ended),
        "idle_terminates_at": iso(service.clusters.idle_deadline(cluster)),
        "livy_url": f"{base}/api/v1/clusters/{cluster.id}/livy",
        "spark_ui_url": f"{base}/clusters/{cluster.id}/ui/",
    }
    if detail and cluster.state == "RUNNING":
        status = await service.clusters.backend.status(service.clusters.running(cluster)) or {}
        workers = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
        data.update(
            workers_alive=len(workers),
            cores=sum(w.get("cores", 0) for w in workers),
            cores_used=sum(w.get("coresused", 0) for w in workers),
            memory_mb=sum(w.get("memory", 0) for w in workers),
            applications=[
                {"id": a.get("id"), "name": a.get("name"), "cores": a.get("cores")}
                for a in status.get("activeapps", [])
            ],
        )
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
                "403": {"description": "Over your Spark limits"},
            },
        },
    }

    async def get(self):
        owner = None if self.is_admin else self.user["name"]
        clusters = self.service.clusters.owned_by(owner)
        self.write_json([await cluster_json(self, c) for c in clusters])

    async def post(self):
        if self.user.get("kind") != "user":
            raise APIError(403, "users_only", "Clusters belong to users.")
        try:
            spec = ClusterSpec.from_request(self.get_json_body())
        except SpecError as e:
            raise APIError(400, "invalid_cluster", str(e)) from e
        name = self.user["name"]
        limits = self.service.sessions.quota_for(name, self.user.get("groups") or []).get("spark")
        cluster = self.service.clusters.create(name, spec, limits or {})
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
        await self.service.clusters.terminate(cluster.id, f"Terminated by {who}.")
        self.set_status(204)
        self.finish()


default_handlers = [
    ("api/v1/clusters", ClustersHandler),
    ("api/v1/clusters/{id}", ClusterHandler),
]
