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

    async def server_running(self, name: str) -> bool:
        """Whether the user's default server is running or starting."""
        user = await self.user(name)
        return bool(user and "" in (user.get("servers") or {}))

    async def stop_server(self, name: str) -> None:
        """Stop a user's default server and wait until it is stopped."""
        await self._request("DELETE", f"/users/{quote(name)}/server", ok=(202, 204, 400))

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
