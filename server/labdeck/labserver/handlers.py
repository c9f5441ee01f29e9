"""Handlers of the lab's own labdeck API: the proxy to the service, and Spark connect.

Both act for the server's owner only (an admin who opens someone's server may not
borrow their identity), and answer errors as JSON.
"""

import json
import re

from jupyter_server.base.handlers import APIHandler
from tornado import httpclient, web

from .sparkmagic_config import MARKER, config_path, read_config, sparkmagic_config, write_config

FORWARDED_HEADERS = ("Content-Type", "Accept")
RETURNED_HEADERS = ("Content-Type", "Location", "Content-Disposition")


RESTARTING = (
    "labdeck's control plane is restarting. This page retries on its own; your lab and "
    "files are not affected."
)
# the service is back about 10 s after a crash
RETRY_AFTER_SECONDS = 3

ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    502: "service_unavailable",
}


class LabdeckHandler(APIHandler):
    def initialize(self, extension):
        self.extension = extension

    def _answer_restarting(self) -> None:
        """503 the lab understands: it says so and retries after Retry-After seconds."""
        self.set_status(503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.finish(json.dumps({"error": "service_restarting", "message": RESTARTING}))

    def check_owner(self) -> None:
        name = getattr(self.current_user, "username", None)
        owner = self.extension.owner
        if owner and name != owner:
            raise web.HTTPError(403, f"Only {owner} can use labdeck from this server.")

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        error = ERROR_CODES.get(status_code, "error")
        self.finish(json.dumps({"error": error, "message": message}))


class ServiceProxyHandler(LabdeckHandler):
    """Every verb is forwarded to the service with the server's hub token."""

    async def _forward(self, path: str):
        self.check_owner()
        if not self.extension.service_url:
            raise web.HTTPError(502, "labdeck is not configured on this server (no service URL).")
        url = self.extension.service_url.rstrip("/") + "/api/v1/" + path
        if self.request.query:
            url += "?" + self.request.query
        headers = {
            h: self.request.headers[h] for h in FORWARDED_HEADERS if h in self.request.headers
        }
        headers["Authorization"] = f"token {self.extension.hub_api_token}"
        method = self.request.method
        request = httpclient.HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=self.request.body if method in ("POST", "PUT", "PATCH") else None,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            request_timeout=self.extension.request_timeout,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError:
            # nothing listens: the hub restarts its service within seconds
            self._answer_restarting()
            return
        if response.code == 599:
            if isinstance(response.error, OSError):
                self._answer_restarting()
                return
            raise web.HTTPError(502, f"The labdeck service did not answer: {response.error}")
        self.set_status(response.code, response.reason)
        for name in RETURNED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        if response.code == 204:
            self.finish()
        else:
            self.finish(response.body)

    @web.authenticated
    async def get(self, path):
        await self._forward(path)

    @web.authenticated
    async def post(self, path):
        await self._forward(path)

    @web.authenticated
    async def put(self, path):
        await self._forward(path)

    @web.authenticated
    async def patch(self, path):
        await self._forward(path)

    @web.authenticated
    async def delete(self, path):
        await self._forward(path)


# What a cluster id looks like (c-1a2b3c4d): nothing else is put into the service URL.
CLUSTER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class SparkConnectHandler(LabdeckHandler):
    """Connect this lab's PySpark notebooks (sparkmagic) to one of the owner's clusters."""

    @web.authenticated
    def get(self):
        self.check_owner()
        config = read_config() or {}
        self.finish(json.dumps({"cluster": config.get(MARKER), "config_path": str(config_path())}))

    @web.authenticated
    async def post(self):
        self.check_owner()
        body = self.get_json_body() or {}
        cluster_id = body.get("cluster_id") if isinstance(body, dict) else None
        if not isinstance(cluster_id, str) or not CLUSTER_ID.fullmatch(cluster_id):
            raise web.HTTPError(400, 'Say which cluster to connect to: {"cluster_id": ...}.')
        ext = self.extension
        try:
            response = await httpclient.AsyncHTTPClient().fetch(
                f"{ext.service_url.rstrip('/')}/api/v1/clusters/{cluster_id}",
                headers={"Authorization": f"token {ext.hub_api_token}"},
                raise_error=False,
                request_timeout=30,
            )
        except OSError:
            # nothing listens: the hub restarts its service within seconds
            self._answer_restarting()
            return
        except httpclient.HTTPClientError as e:
            raise web.HTTPError(502, f"The labdeck service did not answer: {e}") from e
        if response.code in (403, 404):
            raise web.HTTPError(404, f"There is no cluster {cluster_id}.")
        if response.code != 200:
            raise web.HTTPError(502, f"The labdeck service answered {response.code}.")
        cluster = json.loads(response.body)
        if cluster["state"] != "RUNNING":
            raise web.HTTPError(
                409,
                f"Cluster {cluster['name']} is {cluster['state'].lower()}: connect when it runs.",
            )
        livy_url = f"{ext.service_url.rstrip('/')}/api/v1/clusters/{cluster_id}/livy"
        path = write_config(
            sparkmagic_config(livy_url, ext.hub_api_token, cluster_id, cluster["name"])
        )
        self.finish(
            json.dumps(
                {
                    "cluster": {"id": cluster_id, "name": cluster["name"]},
                    "config_path": str(path),
                    "livy_url": livy_url,
                    "kernel": "pysparkkernel",
                }
            )
        )
