"""Hub pages and API for invite links and initial passwords (served by the authenticator).

- `POST /hub/api/invites/{name}` (admins): a one-time link for name to choose a password;
  201 `{"name", "url", "expires_at"}`. Body optional: `{"expires_in_seconds": n}`.
- `PUT /hub/api/passwords/{name}` (admins): `{"password": ...}` sets an initial password; 204.
- `GET|POST /hub/invite?token=...`: the page where the invited user chooses a password,
  then is logged in.

API errors keep JupyterHub's shape and add labdeck's machine code:
`{"status", "error", "message"}`.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlunparse

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers import BaseHandler
from jupyterhub.scopes import needs_scope
from jupyterhub.utils import url_path_join
from tornado import web

from ..service.errors import STATUS_CODES, APIError
from .invites import InviteInvalid

TEMPLATE = (Path(__file__).with_name("templates") / "invite.html").read_text()


class _AdminAPIHandler(APIHandler):
    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(exc, web.HTTPError):
            return super().write_error(status_code, **kwargs)  # logged, no traceback sent
        if isinstance(exc, APIError):
            code, message = exc.code, exc.message
        else:
            code = STATUS_CODES.get(status_code, "error")
            message = exc.log_message % exc.args if exc.log_message else self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "error": code, "message": message}))

    def json_object(self) -> dict:
        """The body as a JSON object ({} when empty); a 400 otherwise."""
        if not self.request.body.strip():
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, RecursionError) as e:  # bad JSON, huge numbers, deep nesting
            raise APIError(400, "invalid_json", "The request body is not valid JSON.") from e
        if not isinstance(body, dict):
            raise APIError(400, "invalid_json", "The request body must be a JSON object.")
        return body

    def only_fields(self, body: dict, allowed: set[str]) -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise APIError(
                400,
                "invalid_request",
                f"Unknown field(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(allowed)) or 'none'}.",
            )

    def existing_user(self, name: str):
        user = self.find_user(name)
        if user is None:
            raise APIError(
                404,
                "not_found",
                f"There is no user {name!r}. Add them first "
                f"(admin panel, or POST /hub/api/users/{name}).",
            )
        return user


class InviteAPIHandler(_AdminAPIHandler):
    @needs_scope("admin:users")
    def post(self, user_name):
        body = self.json_object()
        self.only_fields(body, {"expires_in_seconds"})
        longest = self.authenticator.invite_lifetime_seconds
        lifetime = body.get("expires_in_seconds", longest)
        if type(lifetime) is not int or not 1 <= lifetime <= longest:
            raise APIError(
                400,
                "invalid_request",
                f"'expires_in_seconds' must be a whole number from 1 to {longest}.",
            )
        user = self.existing_user(user_name)
        token, invite = self.authenticator.invites.create(user.name, lifetime)
        expires_at = datetime.fromtimestamp(invite.expires_at, UTC).isoformat(timespec="seconds")
        self.log.info("Invite link for %s created by %s", user.name, self.current_user.name)
        self.set_status(201)
        self.finish(
            json.dumps({"name": user.name, "url": self.invite_url(token), "expires_at": expires_at})
        )

    def invite_url(self, token: str) -> str:
        # The address people reach the hub by: JupyterHub.public_url when set, else the
        # one this request came in on (through the proxy).
        public = self.settings.get("public_url")
        origin = (
            urlunparse((public.scheme, public.netloc, "", "", "", ""))
            if public
            else f"{self.request.protocol}://{self.request.host}"
        )
        path = url_path_join(self.hub.base_url, "invite")
        return f"{origin}{path}?{urlencode({'token': token})}"


class PasswordAPIHandler(_AdminAPIHandler):
    @needs_scope("admin:users")
    async def put(self, user_name):
        body = self.json_object()
        self.only_fields(body, {"password"})
        password = body.get("password")
        if not isinstance(password, str):
            raise APIError(400, "invalid_request", 'Send the password as {"password": "..."}.')
        problem = self.authenticator.password_problem(password)
        if problem:
            raise APIError(400, "invalid_password", problem)
        user = self.existing_user(user_name)
        await self.authenticator.set_password(user.name, password)
        self.log.info("Password of %s set by %s", user.name, self.current_user.name)
        self.set_status(204)
        self.finish()


class InvitePageHandler(BaseHandler):
    """Choose a password with an invite link; then the user is logged in."""

    def set_default_headers(self):
        super().set_default_headers()
        # the token is in this page's URL: keep it out of caches and other sites' logs
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    def get_template(self, name, sync=False):
        if name == "invite.html":
            return self.settings["jinja2_env_sync" if sync else "jinja2_env"].from_string(TEMPLATE)
        return super().get_template(name, sync)

    async def get(self):
        token = self.get_query_argument("token", "")
        # The token is in this URL and the proxy logs the URL of every 4xx answer: a link
        # that does not work is explained with a 200, so no token lands in a log.
        invite = await self._usable_or_explained(token, 200 if token else 400)
        if invite is not None:
            await self._render(200, account=invite.name, token=token)

    async def post(self):
        token = self.get_body_argument("token", "")
        password = self.get_body_argument("password", "", strip=False)
        again = self.get_body_argument("password_again", "", strip=False)
        invite = await self._usable_or_explained(token, 410)
        if invite is None:
            return
        problem = self.authenticator.password_problem(password)
        if not problem and password != again:
            problem = "The two passwords differ: type the same password twice."
        if problem:
            return await self._render(400, account=invite.name, token=token, error=problem)
        hashed = await self.authenticator.hash_password(password)
        try:
            # checked again and used up at once: another tab may have used it meanwhile
            invite = self.authenticator.invites.redeem(token)
        except InviteInvalid as e:
            return await self._render(410, problem=str(e))
        self.authenticator.store_password_hash(invite.name, hashed)
        self.log.info("%s set a password with an invite link", invite.name)
        user = await self.login_user({"username": invite.name, "password": password})
        if user is None:  # e.g. no longer allowed: the login page says so
            return self.redirect(self.settings["login_url"])
        self._jupyterhub_user = user
        self.redirect(self.get_next_url(user))

    async def _usable_or_explained(self, token: str, status: int):
        """The invite if it can be used; else render why not (with status), and None."""
        try:
            invite = self.authenticator.invites.check(token)
        except InviteInvalid as e:
            await self._render(status, problem=str(e))
            return None
        if self.find_user(invite.name) is None:
            await self._render(status, problem="The account this link was for no longer exists.")
            return None
        return invite

    async def _render(self, status: int, **ns) -> None:
        self.set_status(status)
        html = await self.render_template(
            "invite.html", min_length=self.authenticator.min_password_length, **ns
        )
        self.finish(html)


default_handlers = [
    (r"/invite", InvitePageHandler),
    (r"/api/invites/([^/]+)", InviteAPIHandler),
    (r"/api/passwords/([^/]+)", PasswordAPIHandler),
]
