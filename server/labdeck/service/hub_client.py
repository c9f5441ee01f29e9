"""What the service asks of the hub, over its REST API with the service's own token."""

import json
import os
import time
from urllib.parse import quote

from tornado import httpclient

GROUPS_CACHE_SECONDS = 30
# asks the hub for a page of a listing with where the next one starts
PAGINATION = "application/jupyterhub-pagination+json"


class HubError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class HubClient:
    def __init__(self, api_url: str | None = None, token: str | None = None):
        self.api_url = (api_url or os.environ.get("JUPYTERHUB_API_URL", "")).rstrip("/")
        self.token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self._groups_of: dict[str, tuple[float, list[str]]] = {}

    async def _request(self, method: str, path: str, body=None, ok=(200,), headers=None):
        request = httpclient.HTTPRequest(
            self.api_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}", **(headers or {})},
            body=json.dumps(body) if body is not None else None,
            allow_nonstandard_methods=True,
            request_timeout=60,
        )
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code not in ok:
            raise HubError(
                f"hub {method} {path}: {response.code} {response.body[:200]!r}", response.code
            )
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

    async def ready_servers(self, page_size: int = 200) -> list[tuple[str, str, dict]]:
        """(user, server name, server model) of every ready server, with its
        `last_activity`: what jupyterhub-idle-culler reads, page by page."""
        found, offset = [], 0
        while True:
            page = await self._request(
                "GET",
                f"/users?state=ready&offset={offset}&limit={page_size}",
                headers={"Accept": PAGINATION},
            )
            # a hub without pagination answers a plain list
            users = page.get("items", []) if isinstance(page, dict) else page
            for user in users:
                for server, model in (user.get("servers") or {}).items():
                    if model.get("ready"):
                        found.append((user["name"], server, model))
            more = isinstance(page, dict) and (page.get("_pagination") or {}).get("next")
            if not more:
                return found
            offset = more["offset"]

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

    # -- courses: users and groups an admin's course asks for ---------------------------
    def forget_groups(self, users) -> None:
        """Drop cached groups of users whose groups just changed."""
        for user in users:
            self._groups_of.pop(user, None)

    async def create_users(self, names: list[str]) -> list[str]:
        """Create those of the users that do not exist yet; the names created. A name the
        hub refuses raises HubError (400) before any user is made."""
        if not names:
            return []
        try:
            created = await self._request("POST", "/users", {"usernames": names}, ok=(201,))
        except HubError as e:
            if e.status == 409:  # all of them exist
                return []
            raise
        return [user["name"] for user in created]

    async def set_group_members(self, group: str, users: list[str]) -> None:
        """Make the group (if missing) have exactly these members."""
        path = f"/groups/{quote(group, safe='')}"
        current = await self.group_members(group)
        if current is None:
            await self._request("POST", path, {"users": users}, ok=(201,))
            return
        wanted = set(users)
        if extra := [user for user in current if user not in wanted]:
            await self._request("DELETE", path + "/users", {"users": extra})
        if missing := [user for user in users if user not in set(current)]:
            await self._request("POST", path + "/users", {"users": missing})

    async def delete_group(self, group: str) -> None:
        await self._request("DELETE", f"/groups/{quote(group, safe='')}", ok=(204, 404))
