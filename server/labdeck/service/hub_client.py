"""What the service asks of the hub, over its REST API with the service's own token."""

import json
import os
import time
from urllib.parse import quote

from tornado import httpclient

GROUPS_CACHE_SECONDS = 30


class HubError(Exception):
    pass


class HubClient:
    def __init__(self, api_url: str | None = None, token: str | None = None):
        self.api_url = (api_url or os.environ.get("JUPYTERHUB_API_URL", "")).rstrip("/")
        self.token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self._groups_of: dict[str, tuple[float, list[str]]] = {}

    async def _request(self, method: str, path: str, body=None, ok=(200,)):
        request = httpclient.HTTPRequest(
            self.api_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            body=json.dumps(body) if body is not None else None,
            allow_nonstandard_methods=True,
            request_timeout=60,
        )
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code not in ok:
            raise HubError(f"hub {method} {path}: {response.code} {response.body[:200]!r}")
        return json.loads(response.body) if response.body else None

    async def user(self, name: str) -> dict | None:
        try:
            return await self._request("GET", f"/users/{quote(name)}")
        except HubError:
            return None

    async def server_running(self, name: str, server: str = "") -> bool:
        """Whether the user's server ("" for the default one) is running or starting."""
        user = await self.user(name)
        return bool(user and server in (user.get("servers") or {}))

    async def stop_server(self, name: str, server: str = "") -> None:
        """Ask the hub to stop a user's server ("" for the default one)."""
        path = f"/users/{quote(name)}/" + (f"servers/{quote(server)}" if server else "server")
        await self._request("DELETE", path, ok=(202, 204, 400))

    async def groups_of(self, user: str) -> list[str]:
        """The user's groups, cached briefly (every spawn and report asks)."""
        cached = self._groups_of.get(user)
        if cached and time.monotonic() - cached[0] < GROUPS_CACHE_SECONDS:
            return cached[1]
        model = await self.user(user)
        groups = sorted((model or {}).get("groups") or [])
        self._groups_of[user] = (time.monotonic(), groups)
        return groups

    async def group_members(self, group: str) -> list[str] | None:
        """Members of a group, or None when there is no such group."""
        try:
            model = await self._request("GET", f"/groups/{quote(group)}")
        except HubError:
            return None
        return list(model.get("users") or [])
