"""The JupyterHub `labdeck up` runs: JupyterHub with labdeck's start and stop order.

`labdeck-hub -f hub_config/jupyterhub_config.py` (or `python -m labdeck.hub`) takes the
same options as `jupyterhub`. What it adds:

- the admin API token `labdeck up` writes to `<state-dir>/admin-token` acts as the admin
  user (as `JupyterHub.api_tokens` once did, without its deprecation);
- labdeck's own service needs no OAuth confirmation page;
- the service's proxy route is added as soon as it answers, not found missing later;
- at shutdown the user servers stop first, while the service still runs to record their
  sessions' end (`hub_shutdown`); JupyterHub alone stops services first.
"""

import asyncio
import ipaddress
import logging
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.app import JupyterHub
from jupyterhub.proxy import ConfigurableHTTPProxy
from traitlets import List, Unicode, default

from .settings import SERVICE_NAME

NO_SSL_WARNING = "Running JupyterHub without SSL"


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _DropRecord(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


class LabdeckProxy(ConfigurableHTTPProxy):
    """configurable-http-proxy, quiet about TLS when it serves only this machine."""

    async def start(self):
        if not is_loopback(self.public_url):
            return await super().start()
        # JupyterHub warns about plain HTTP on any address; on loopback nothing leaves the
        # machine, so there is nothing to warn about (on any other address it still warns).
        dropped = _DropRecord(NO_SSL_WARNING)
        self.log.addFilter(dropped)
        try:
            return await super().start()
        finally:
            self.log.removeFilter(dropped)


class LabdeckHub(JupyterHub):
    """JupyterHub with labdeck's admin token, service route and stop order."""

    admin_token_file = Unicode(
        "",
        help="""File holding an API token that acts as the admin user (mode 0600).

        `labdeck up` writes it on first start (`<state-dir>/admin-token`) for `labdeck
        invite`, scripts and admins. Its token is loaded as a token of
        `admin_token_user`, with that user's permissions. Empty or missing: no such token.
        """,
    ).tag(config=True)

    admin_token_user = Unicode(
        "",
        help="The admin user the admin token acts as (empty: the only admin user).",
    ).tag(config=True)

    own_services = List(
        Unicode(),
        default_value=[SERVICE_NAME],
        help="""Services that are part of labdeck itself: users reach them without an
        OAuth confirmation page, as they reach the hub.""",
    ).tag(config=True)

    @default("proxy_class")
    def _labdeck_proxy(self):
        return LabdeckProxy

    # -- the admin token ---------------------------------------------------------------
    async def init_api_tokens(self):
        await super().init_api_tokens()
        # JupyterHub.api_tokens does this too, but is pending deprecation (and warns);
        # service tokens cannot act as a user, and the admin token must: `labdeck
        # invite` and admins call the hub's and labdeck's APIs as the admin user.
        token = self._read_admin_token()
        if token:
            await self._add_tokens({token: self._admin_name()}, kind="user")

    def _read_admin_token(self) -> str:
        if not self.admin_token_file:
            return ""
        path = Path(self.admin_token_file)
        if not path.exists():
            self.log.info("No admin token file at %s", path)
            return ""
        return path.read_text().strip()

    def _admin_name(self) -> str:
        if self.admin_token_user:
            return self.admin_token_user
        admins = self.authenticator.admin_users
        if len(admins) != 1:
            raise ValueError("admin_token_file needs admin_token_user: which admin is it?")
        return next(iter(admins))

    # -- labdeck's service ---------------------------------------------------------------
    def init_tornado_settings(self):
        super().init_tornado_settings()
        # JupyterHub's oauth_no_confirm warns, as it is meant for third-party services;
        # labdeck's own service is part of the product, like the hub's own pages.
        trusted = self.tornado_settings["oauth_no_confirm_list"]
        for name in self.own_services:
            service = self._service_map.get(name)
            if service is not None:
                trusted.add(service.oauth_client_id)

    async def start_service(self, service_name, service, ssl_context=None) -> bool:
        ready = await super().start_service(service_name, service, ssl_context)
        # JupyterHub adds services' routes in its first route check, and warns each
        # start that they were "missing"; a service that answers is routed at once.
        if ready and service.server is not None and self.proxy.should_start:
            await self.proxy.add_service(service)
        return ready

    # -- stop order ----------------------------------------------------------------------
    async def shutdown_cancel_tasks(self, sig=None):
        # JupyterHub's own, but a requested stop (Ctrl-C, SIGTERM) is logged as what it
        # is, not as CRITICAL.
        self.log.info("Received %s: shutting down", sig.name if sig else "a stop request")
        await self.cleanup()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._stop_event_loop()

    async def cleanup(self):
        if self.cleanup_servers:
            await self._stop_servers()
        await super().cleanup()

    async def _stop_servers(self) -> None:
        """Stop every running user server while the services still run, so each
        session's end is recorded (reason hub_shutdown)."""
        stops = []
        for user in self.users.values():
            for name, spawner in list(user.spawners.items()):
                if spawner.active:
                    # read by labdeck's spawners (QuotaSpawnerMixin) as the end reason
                    spawner.hub_shutting_down = True
                    stops.append(user.stop(name))
        if not stops:
            return
        self.log.info("Stopping %i user server(s) before the services...", len(stops))
        for result in await asyncio.gather(*stops, return_exceptions=True):
            if isinstance(result, Exception):
                self.log.error("Failed to stop a user server: %s", result)


def main(argv=None):
    LabdeckHub.launch_instance(argv)
