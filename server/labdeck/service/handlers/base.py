"""The base of every API handler: hub authentication, JSON bodies and JSON errors."""

import json
import re
import traceback
from typing import TYPE_CHECKING

from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from tornado import web

from ..errors import STATUS_CODES, APIError, LabdeckError, http_status

WHOLE_ID = re.compile(r"[0-9]{1,18}")

if TYPE_CHECKING:
    from ..app import LabdeckService
    from ..clusters import ClusterManager
    from ..deployments import DeploymentManager
    from ..jobs import JobManager
    from ..ledger import Ledger
    from ..livy import LivyGateway
    from ..quotas import Quotas
    from ..sessions import SessionManager


class APIHandler(HubOAuthenticated, web.RequestHandler):
    """Authenticated JSON API handler.

    Every request is authenticated in `prepare`, before any verb runs: a missing or bad
    credential is a 401 JSON error, never a redirect to the login page.
    Subclasses describe each verb in `openapi` (method -> OpenAPI operation).
    """

    openapi: dict[str, dict] = {}
    admin_only = False

    @property
    def user(self) -> dict:
        """The hub model of the caller (a user or a service)."""
        return self.current_user

    @property
    def is_admin(self) -> bool:
        return bool(self.current_user.get("admin"))

    @property
    def service(self) -> "LabdeckService":
        """The LabdeckService application."""
        return self.settings["labdeck"]

    # The managers, typed: handlers ask them, never what is behind them.
    @property
    def sessions(self) -> "SessionManager":
        return self.service.sessions

    @property
    def clusters(self) -> "ClusterManager":
        return self.service.clusters

    @property
    def jobs(self) -> "JobManager":
        return self.service.jobs

    @property
    def deployments(self) -> "DeploymentManager":
        return self.service.deployments

    @property
    def livy(self) -> "LivyGateway":
        return self.service.livy

    @property
    def quotas(self) -> "Quotas":
        return self.service.quotas

    @property
    def ledger(self) -> "Ledger":
        return self.service.ledger

    @property
    def is_hub(self) -> bool:
        """The caller is the hub side of labdeck (the spawner uses the service's own token)."""
        return (
            self.current_user.get("kind") == "service"
            and self.current_user.get("name") == self.service.service_name
        )

    def require_admin(self) -> None:
        if not self.is_admin:
            raise APIError(403, "admin_only", "Only hub admins can do this.")

    def require_hub(self) -> None:
        if not self.is_hub:
            raise APIError(
                403,
                "hub_only",
                "Sessions are started and ended by the hub. Start one from the hub's home "
                "page or with POST /hub/api/users/<name>/server.",
            )

    def whose(self) -> str | None:
        """Whose things a listing shows: the caller's own; admins choose with ?user=
        (everyone's without it)."""
        if self.is_admin or self.is_hub:
            return self.get_argument("user", None) or None
        return self.current_user["name"]

    def may_see(self, owner: str) -> bool:
        return self.is_admin or self.is_hub or owner == self.current_user.get("name")

    def key_holder(self) -> bool:
        """Whether the request carries a credential of the resource's own instead of a
        hub identity (an endpoint's access key); then there is no current user. Only a
        route whose resources have keys says yes."""
        return False

    async def prepare(self):
        if self.key_holder():
            self.current_user = None
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            raise APIError(
                401,
                "not_authenticated",
                "Log in to labdeck first, or send a hub API token "
                "in an 'Authorization: token ...' header.",
            )
        try:
            self.current_user = self.check_hub_user(model)
        except UserNotAllowed as e:
            raise APIError(
                403,
                "forbidden",
                f"{model.get('name')} is not allowed to use labdeck. Ask an admin for access.",
            ) from e
        if self.admin_only:
            self.require_admin()

    def get_json_body(self) -> dict:
        """The request body as a JSON object; a 400 JSON error if it is not one."""
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except json.JSONDecodeError as e:
            raise APIError(
                400,
                "invalid_json",
                f"The request body is not valid JSON ({e.msg} at line {e.lineno}, "
                f"column {e.colno}).",
            ) from e
        except UnicodeDecodeError as e:
            raise APIError(400, "invalid_json", "The request body is not UTF-8 text.") from e
        except (ValueError, RecursionError) as e:
            # numbers of thousands of digits, or nesting deeper than any request needs
            raise APIError(
                400, "invalid_json", "The request body has a number or nesting too large."
            ) from e
        if not isinstance(body, dict):
            raise APIError(400, "invalid_json", "The request body must be a JSON object.")
        return body

    def write_json(self, data, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data, default=str))

    def set_default_headers(self):
        self.set_header("Cache-Control", "no-store")

    def _handle_request_exception(self, e: BaseException) -> None:
        # a manager's refusal becomes an HTTP error here, and only here
        if isinstance(e, LabdeckError):
            if not self._finished:
                self.send_error(http_status(e), exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, APIError | LabdeckError):
            code, message = exc.code, exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            code = STATUS_CODES.get(status_code, "error")
            message = exc.log_message % exc.args if exc.args else exc.log_message
        else:
            code = STATUS_CODES.get(status_code, "error")
            message = self._reason
        # a refusal of labdeck's own (a model server that does not answer: 502, an
        # endpoint not in service: 503) says why; anything else is a bug, kept in the log
        if (
            status_code >= 500
            and exc is not None
            and not isinstance(exc, web.HTTPError | LabdeckError)
        ):
            # Keep the traceback in the log, never in the response.
            self.log_exception(*kwargs["exc_info"])
            message = "Something went wrong inside labdeck. The error was logged for admins."
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # a 429 or 503 that says when to come back
            self.set_header("Retry-After", str(retry_after))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(self.error_body(code, message)))

    def error_body(self, code: str, message: str) -> dict:
        """An error's JSON: `code` for programs, `message` for people."""
        return {"error": code, "message": message}

    def log_exception(self, typ, value, tb):
        if isinstance(value, web.HTTPError) and value.status_code < 500:
            return
        self.application.settings["log"].error(
            "Error in %s %s:\n%s",
            self.request.method,
            self.request.uri,
            "".join(traceback.format_exception(typ, value, tb)),
        )


def whole_id(text: str) -> int | None:
    """A numeric id of a path (ASCII digits, at most 18 of them), else None."""
    return int(text) if WHOLE_ID.fullmatch(text) else None


class NotFoundHandler(APIHandler):
    """Unknown API paths: a JSON 404, with the same authentication as every route."""

    def prepare(self):
        raise APIError(404, "not_found", f"There is no labdeck API at {self.request.path}.")
