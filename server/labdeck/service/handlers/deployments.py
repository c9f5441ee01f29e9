"""`api/v1/deployments`: users' model deployments, managed by name (the caller's own;
admins add `?user=`). Calls to the endpoints themselves are in endpoints.py."""

import math
from pathlib import Path

from ...capabilities import DEPLOYMENTS
from ...deployments.spec import FIELDS, UPDATABLE
from ..errors import APIError
from ..models import Resource
from .base import APIHandler
from .serializers import iso

DEPLOYMENT_STATES = ["CREATING", "IN_SERVICE", "UPDATING", "DELETING", "STOPPED", "FAILED"]
# what it was asked for (the name and folder are shown apart), and what labdeck found
SHOWN_SPEC = (*(f for f in FIELDS if f not in ("name", "model_dir")), "model_format")
DEPLOYMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "user": {"type": "string"},
        "state": {"type": "string", "enum": DEPLOYMENT_STATES},
        "state_reason": {
            "type": "string",
            "nullable": True,
            "description": "Why it failed (the model's import error or traceback), or "
            "why its last update did not apply.",
        },
        "progress": {"type": "object", "nullable": True},
        "spec": {"type": "object"},
        "replicas_running": {"type": "integer"},
        "endpoint": {
            "type": "object",
            "description": "Where to call it: `invocations` (SageMaker style) and `v2` "
            "(the Open Inference Protocol's base URL).",
        },
        "key": {
            "type": "string",
            "description": "Its access key: only in the answer that made it.",
        },
    },
}
CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,62}$"},
        "model_dir": {
            "type": "string",
            "description": "A folder of your home with inference.py (model_fn, "
            "predict_fn) or model.joblib (scikit-learn).",
        },
        "mode": {"type": "string", "enum": ["realtime", "serverless"]},
        "replicas": {"type": "integer", "minimum": 1},
        "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 200},
        "idle_seconds_to_zero": {"type": "integer", "minimum": 10},
        "memory_mb": {"type": "integer", "minimum": 128, "maximum": 6144},
        "access": {"type": "string", "enum": ["private", "hub", "key"]},
    },
    "required": ["name", "model_dir"],
}
USER_QUERY = {"name": "user", "in": "query", "schema": {"type": "string"}}
SINCE = {"name": "since", "in": "query", "schema": {"type": "number"}}


def deployment_json(handler: APIHandler, resource: Resource, key: str | None = None) -> dict:
    spec = resource.spec
    home = Path(spec["home"])
    base = (
        f"{handler.service.base_url.rstrip('/')}/api/v1/endpoints/{resource.user}/{resource.name}"
    )
    data = {
        "id": resource.id,
        "name": resource.name,
        "user": resource.user,
        "state": handler.deployments.api_state(resource),
        "state_reason": resource.state_reason,
        "progress": resource.progress,
        "spec": {
            "model_dir": str(Path(spec["model_dir"]).relative_to(home)),
            **{field: spec.get(field) for field in SHOWN_SPEC},
        },
        "replicas_running": handler.deployments.replicas_running(resource),
        "endpoint": {"invocations": f"{base}/invocations", "v2": f"{base}/v2"},
        "created": iso(resource.created),
        "started": iso(resource.started),
    }
    if key is not None:
        data["key"] = key
    return data


class DeploymentAPIHandler(APIHandler):
    def owner(self) -> str:
        """Whose deployment a name means: the caller's; admins may say `?user=`."""
        if self.is_admin:
            return self.get_argument("user", None) or self.user["name"]
        return self.user["name"]

    def deployment(self, name: str) -> Resource:
        return self.deployments.by_name_or_404(self.owner(), name)


class DeploymentsHandler(DeploymentAPIHandler):
    openapi = {
        "get": {
            "summary": "List deployments",
            "description": "Your deployments; admins see everyone's, or one user's with `?user=`.",
            "parameters": [USER_QUERY],
            "responses": {
                "200": {
                    "description": "Deployments",
                    "schema": {"type": "array", "items": DEPLOYMENT_SCHEMA},
                }
            },
        },
        "post": {
            "summary": "Deploy a model",
            "description": "Serves the model of a folder of your home on replicas of a "
            "model server that run as your account, with the memory asked. Limited by "
            f"your `deployments` quota. Fields: {', '.join(FIELDS)}.",
            "request": CREATE_SCHEMA,
            "responses": {
                "201": {"description": "Creating", "schema": DEPLOYMENT_SCHEMA},
                "400": {"description": "A request that cannot serve as asked"},
                "403": {"description": "Over your deployments quota"},
                "409": {"description": "You have a deployment of that name"},
            },
        },
    }

    async def get(self):
        self.write_json([deployment_json(self, d) for d in self.deployments.owned_by(self.whose())])

    async def post(self):
        if self.user.get("kind") != "user":
            raise APIError(403, "users_only", "Deployments belong to users.")
        body = self.get_json_body()
        name = self.user["name"]
        groups = self.user.get("groups") or []
        limits = self.quotas.limits(name, groups, DEPLOYMENTS.quota.name)
        resource, key = await self.deployments.create_deployment(name, body, limits)
        self.set_header("Location", f"{self.request.path}/{resource.name}")
        self.write_json(deployment_json(self, resource, key), 201)


class DeploymentHandler(DeploymentAPIHandler):
    openapi = {
        "get": {
            "summary": "One deployment",
            "parameters": [USER_QUERY],
            "responses": {"200": {"description": "It", "schema": DEPLOYMENT_SCHEMA}},
        },
        "put": {
            "summary": "Update a deployment",
            "description": "Changes its model, replicas, concurrency, idle time or access "
            f"({', '.join(UPDATABLE)}); it is UPDATING until the new replicas serve, and "
            "no request fails meanwhile. Setting access to `key` returns a new key.",
            "parameters": [USER_QUERY],
            "request": {
                "type": "object",
                "properties": {
                    k: v for k, v in CREATE_SCHEMA["properties"].items() if k in UPDATABLE
                },
            },
            "responses": {
                "200": {"description": "Updating", "schema": DEPLOYMENT_SCHEMA},
                "400": {"description": "A change that cannot be made"},
                "409": {"description": "Not in service, or an update is running"},
            },
        },
        "delete": {
            "summary": "Delete a deployment",
            "description": "Stops its replicas; its endpoint answers 404 from then on.",
            "parameters": [USER_QUERY],
            "responses": {"204": {"description": "Deleted"}},
        },
    }

    async def get(self, name):
        self.write_json(deployment_json(self, self.deployment(name)))

    async def put(self, name):
        resource = self.deployment(name)
        body = self.get_json_body()
        updated, key = self.deployments.update(resource, body)
        self.write_json(deployment_json(self, updated, key))

    async def delete(self, name):
        resource = self.deployment(name)
        await self.deployments.delete(resource)
        self.set_status(204)
        self.finish()


class DeploymentKeyHandler(DeploymentAPIHandler):
    openapi = {
        "post": {
            "summary": "Replace a deployment's access key",
            "description": "The old key stops working at once; the new one is returned once.",
            "parameters": [USER_QUERY],
            "responses": {
                "200": {
                    "description": "The new key",
                    "schema": {"type": "object", "properties": {"key": {"type": "string"}}},
                },
                "409": {"description": "It is not called with a key"},
            },
        }
    }

    async def post(self, name):
        self.write_json({"key": self.deployments.new_key(self.deployment(name))})


class DeploymentMetricsHandler(DeploymentAPIHandler):
    openapi = {
        "get": {
            "summary": "A deployment's invocation metrics",
            "description": "Per minute: invocations, 4xx and 5xx answers, model and "
            "overhead latency (mean and max, ms), cold starts and their longest "
            "duration, replicas. `since`: Unix seconds.",
            "parameters": [USER_QUERY, SINCE],
            "responses": {"200": {"description": "The series"}},
        }
    }

    async def get(self, name):
        resource = self.deployment(name)
        text = self.get_argument("since", "0") or "0"
        try:
            since = float(text)
        except ValueError:
            since = math.nan
        if not math.isfinite(since):  # "nan" and "inf" parse, and would break the series
            raise APIError(400, "invalid_since", "'since' must be Unix seconds.")
        traffic = self.deployments.gateway.of(resource)
        self.write_json({"name": resource.name, "points": traffic.metrics.series(since)})


RECOMMENDATION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": ["RUNNING", "COMPLETED", "FAILED"]},
        "reason": {"type": "string", "nullable": True},
        "progress": {"type": "object", "description": "{done, total} candidates"},
        "latency_target_ms": {"type": "number", "nullable": True},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer"},
                    "workers": {"type": "integer"},
                    "requests": {"type": "integer"},
                    "errors": {"type": "integer"},
                    "throughput_rps": {"type": "number"},
                    "p50_ms": {"type": "number"},
                    "p99_ms": {"type": "number"},
                    "memory_bytes": {"type": "integer"},
                },
            },
        },
        "recommended": {"type": "object", "nullable": True},
    },
}


class RecommendationsHandler(DeploymentAPIHandler):
    openapi = {
        "post": {
            "summary": "Recommend a configuration",
            "description": "Load-tests each candidate ({replicas, workers}) on model "
            "servers of its own (the endpoint keeps serving) with `clients` callers "
            "sending `payload` for `duration_seconds` (at most 240 s in all), then "
            "recommends the cheapest with no error and its p99 within "
            "`latency_target_ms` (without a target: the most throughput per server).",
            "parameters": [USER_QUERY],
            "request": {
                "type": "object",
                "properties": {
                    "payload": {"description": "A request body for invocations"},
                    "duration_seconds": {"type": "integer", "minimum": 1, "maximum": 60},
                    "candidates": {"type": "array", "items": {"type": "object"}},
                    "clients": {"type": "integer", "minimum": 1, "maximum": 64},
                    "latency_target_ms": {"type": "number"},
                },
                "required": ["payload"],
            },
            "responses": {
                "202": {"description": "Running", "schema": RECOMMENDATION_SCHEMA},
                "400": {"description": "A run that cannot be made"},
                "409": {"description": "Not in service, or a run is going on"},
            },
        },
        "get": {
            "summary": "The latest recommendation",
            "parameters": [USER_QUERY],
            "responses": {
                "200": {"description": "Its run", "schema": RECOMMENDATION_SCHEMA},
                "404": {"description": "None was asked for"},
            },
        },
    }

    async def post(self, name):
        resource = self.deployment(name)
        run = self.deployments.recommender.start(resource, self.get_json_body())
        self.write_json(run, 202)

    async def get(self, name):
        run = self.deployments.recommender.latest(self.deployment(name))
        if run is None:
            raise APIError(404, "not_found", f"No recommendation was asked for {name!r}.")
        self.write_json(run)


default_handlers = [
    ("api/v1/deployments", DeploymentsHandler),
    ("api/v1/deployments/{name}", DeploymentHandler),
    ("api/v1/deployments/{name}/key", DeploymentKeyHandler),
    ("api/v1/deployments/{name}/metrics", DeploymentMetricsHandler),
    ("api/v1/deployments/{name}/recommendations", RecommendationsHandler),
]
