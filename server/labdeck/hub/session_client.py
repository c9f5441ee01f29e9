"""The spawner's side of the session protocol with the labdeck service."""

import json
from urllib.parse import quote

from jupyterhub.spawner import SpawnException
from tornado import httpclient

UNAVAILABLE = (
    "labdeck's control plane is not answering, so sessions cannot start right now. "
    "Try again in a minute; if it goes on, tell an admin."
)


class SessionClient:
    """Begin and end ledger sessions; refusals become SpawnExceptions users can read."""

    def __init__(self, service_url: str, token: str, timeout: float = 60):
        self.api = service_url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    async def _call(self, method: str, path: str, body: dict | None = None, timeout=None):
        request = httpclient.HTTPRequest(
            self.api + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else None,
            allow_nonstandard_methods=True,
            request_timeout=timeout or self.timeout,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as e:
            raise SpawnException(UNAVAILABLE, reason="labdeck", status_code=503) from e
        if response.code == 599:
            raise SpawnException(UNAVAILABLE, reason="labdeck", status_code=503)
        data = json.loads(response.body) if response.body else {}
        if response.code >= 400:
            raise SpawnException(
                data.get("message", UNAVAILABLE),
                reason=data.get("error", "labdeck"),
                status_code=response.code if response.code < 500 else 503,
            )
        return response.code, data

    async def begin(
        self, user: str, profile: str, wait: float, server: str = ""
    ) -> tuple[int, dict]:
        """(201, grant) or (202, place in the GPU queue); raises SpawnException on refusal."""
        return await self._call(
            "POST",
            "/sessions",
            {"user": user, "server": server, "profile": profile, "wait": wait},
            timeout=wait + self.timeout,
        )

    async def end(self, session_id: int, reason: str) -> None:
        await self._call("POST", f"/sessions/{session_id}/end", {"reason": reason}, timeout=10)

    async def last(self, user: str) -> dict | None:
        """The user's newest session, or None."""
        _, sessions = await self._call("GET", f"/sessions?user={quote(user)}", timeout=10)
        return sessions[0] if sessions else None

    async def runtimes(self, user: str, timeout: float = 10) -> list[dict]:
        """The runtimes the user may choose, with the time each has left today."""
        _, runtimes = await self._call(
            "GET", f"/runtimes?user={quote(user, safe='')}", timeout=timeout
        )
        return runtimes

    async def leave_queue(self, user: str) -> None:
        await self._call("DELETE", f"/gpu-queue/{user}", timeout=10)
