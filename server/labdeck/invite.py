"""`labdeck invite NAME`: a one-time link for a user to choose their password.

Talks to a running hub as the admin, with the admin token of the state dir. Adds the user
first if the hub does not know them. `--password` sets an initial password instead (typed
at a prompt, or one line on stdin: never on the command line).
"""

import getpass
import sys
from urllib.parse import quote

import requests

from .paths import StateDir


class InviteError(Exception):
    """Why no link could be made, worded for the admin who asked."""


class HubAdmin:
    """The hub API as the admin of a state dir."""

    def __init__(self, url: str, state: StateDir):
        self.url = url.rstrip("/")
        try:
            self.token = state.admin_token.read_text().strip()
        except FileNotFoundError as e:
            raise InviteError(
                f"no admin token in {state.admin_token}: start `labdeck up` with this "
                "state directory first (or pass --state-dir)"
            ) from e
        except PermissionError as e:
            raise InviteError(
                f"cannot read {state.admin_token}: run this as the account that runs labdeck"
            ) from e

    def call(self, method: str, path: str, json=None) -> requests.Response:
        try:
            return requests.request(
                method,
                f"{self.url}/hub/api{path}",
                headers={"Authorization": f"token {self.token}"},
                json=json,
                timeout=30,
            )
        except requests.ConnectionError as e:
            raise InviteError(
                f"cannot reach labdeck at {self.url}: is `labdeck up` running there "
                "(pick its address with --port or --url)?"
            ) from e

    def expect(self, response: requests.Response, *statuses: int) -> dict:
        if response.status_code not in statuses:
            try:
                message = response.json().get("message") or response.reason
            except ValueError:
                message = response.reason
            raise InviteError(f"the hub said {response.status_code}: {message}")
        return response.json() if response.content else {}


def _read_password(name: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"Initial password for {name}: ")
    if getpass.getpass("The same password again: ") != password:
        raise InviteError("the two passwords differ")
    return password


def run(name: str, url: str, state: StateDir, password: bool = False) -> int:
    """Print an invite link for name (or set their password); return the exit code."""
    hub = HubAdmin(url, state)
    user = f"/users/{quote(name, safe='')}"
    if hub.call("GET", user).status_code == 404:
        hub.expect(hub.call("POST", user), 201)
        print(f"Added user {name!r}.", file=sys.stderr)
    if password:
        body = {"password": _read_password(name)}
        hub.expect(hub.call("PUT", f"/passwords/{quote(name, safe='')}", json=body), 204)
        print(f"Password set: {name} signs in at {hub.url}/hub/login", file=sys.stderr)
        return 0
    invite = hub.expect(hub.call("POST", f"/invites/{quote(name, safe='')}"), 201)
    print(invite["url"])
    print(
        f"Send this link to {name}: it works once, until {invite['expires_at']}, "
        "to choose a password.",
        file=sys.stderr,
    )
    return 0
