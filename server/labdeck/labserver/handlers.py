"""The proxy handler: the user's lab to the labdeck service, as the server's owner."""

import json

from jupyter_server.base.handlers import APIHandler
from tornado import httpclient, web

FORWARDED_HEADERS = ("Content-Type", "Accept")
RETURNED_HEADERS = ("Content-Type", "Location", "Content-Disposition")


class ServiceProxyHandler(APIHandler):
    """Every verb is forwarded; only the server's owner may use it."""

    def initialize(self, extension):
        self.extension = extension

    def _check_owner(self):
        name = getattr(self.current_user, "username", None)
        owner = self.extension.owner
        if owner and name != owner:
            raise web.HTTPError(403, f"Only {owner} can use labdeck from this server.")

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        codes = {401: "not_authenticated", 403: "forbidden", 502: "service_unavailable"}
        self.finish(json.dumps({"error": codes.get(status_code, "error"), "message": message}))

    async def _forward(self, path: str):
        self._check_owner()
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
        except OSError as e:
            raise web.HTTPError(502, f"The labdeck service cannot be reached: {e}") from e
        if response.code == 599:
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
