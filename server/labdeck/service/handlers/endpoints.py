"""`api/v1/endpoints/{user}/{name}/...`: calls to a deployment's endpoint.

`invocations` (SageMaker style: JSON by default, other content types passed to the
model's input_fn), `ping`, and the Open Inference Protocol under `v2/` (KServe and
Triton clients). Who may call: the owner and admins (private, the default), any hub user
(`access: hub`), or whoever holds its key (`access: key`, `Authorization: Bearer <key>`).
Anyone else gets the same 404 as for an endpoint that does not exist.
"""

import functools
import re

from ..errors import APIError
from ..models import Resource
from .base import APIHandler

# what a caller may reach on a model server
ENDPOINT_PATHS = re.compile(r"invocations|ping|v2(/[A-Za-z0-9_.\-/]*)?")
INFER_SCHEMA = {
    "type": "object",
    "description": "Open Inference Protocol request: typed tensors.",
    "properties": {
        "id": {"type": "string"},
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "shape": {"type": "array", "items": {"type": "integer"}},
                    "datatype": {"type": "string", "example": "FP32"},
                    "data": {"type": "array"},
                },
            },
        },
    },
}


class EndpointHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Ask an endpoint (ping, Open Inference Protocol v2 health and metadata)",
            "description": "`ping`, `v2`, `v2/health/live`, `v2/health/ready`, "
            "`v2/models/{name}`, `v2/models/{name}/ready`.",
            "responses": {"200": {"description": "The model server's answer"}},
        },
        "post": {
            "summary": "Invoke an endpoint",
            "description": "`invocations`: the body goes to the model (JSON, or any "
            "content type its input_fn reads; `Accept` to its output_fn). "
            "`v2/models/{name}/infer`: Open Inference Protocol typed tensors. 429 with "
            "Retry-After beyond its max_concurrency; 413 beyond the request size limit; "
            "a serverless endpoint at zero answers once its cold start is done.",
            "request": INFER_SCHEMA,
            "responses": {
                "200": {"description": "The model's answer"},
                "404": {"description": "No such endpoint, or not yours to call"},
                "413": {"description": "Request too large"},
                "429": {"description": "Over its max_concurrency: retry after Retry-After"},
                "503": {"description": "Not in service (creating, failed, deleting)"},
            },
        },
    }

    def key_holder(self) -> bool:
        """The caller holds the endpoint's key (else a hub token, which may come as a
        Bearer too, is checked as on every route)."""
        resource = self._resource
        key = self._bearer()
        return (
            resource is not None and key is not None and self.deployments.key_matches(resource, key)
        )

    @functools.cached_property
    def _resource(self) -> Resource | None:
        return self.deployments.endpoint(self.path_kwargs["user"], self.path_kwargs["name"])

    def _endpoint(self) -> Resource:
        """The endpoint, if the caller may call it (a key's holder may)."""
        resource = self._resource
        if resource is None or (self.current_user is not None and not self._may_call(resource)):
            user, name = self.path_kwargs["user"], self.path_kwargs["name"]
            raise APIError(404, "not_found", f"There is no endpoint {user}/{name}.")
        return resource

    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def _may_call(self, resource: Resource) -> bool:
        if self.may_see(resource.user):
            return True
        return resource.spec.get("access") == "hub" and self.user.get("kind") == "user"

    async def get(self, user, name, path):
        await self._call("GET", path)

    async def post(self, user, name, path):
        await self._call("POST", path)

    async def _call(self, method: str, path: str) -> None:
        endpoint = self._endpoint()
        limit = self.deployments.settings.max_request_bytes
        if len(self.request.body) > limit:
            raise APIError(
                413, "request_too_large", f"The request is over this endpoint's {limit} bytes."
            )
        if not ENDPOINT_PATHS.fullmatch(path) or ".." in path:
            raise APIError(
                404, "not_found", "An endpoint answers invocations, ping and v2/... only."
            )
        answer = await self.deployments.gateway.call(
            endpoint, method, path, self.request.body, self.request.headers
        )
        self.set_status(answer.status)
        for header, value in answer.headers.items():
            self.set_header(header, value)
        self.finish(answer.body)


default_handlers = [
    ("api/v1/endpoints/{user}/{name}/{path*}", EndpointHandler),
]
