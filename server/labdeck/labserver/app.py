"""LabdeckServerExtension: exposes the labdeck API inside the user's own server."""

import asyncio
import os

import zmq
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Float, Unicode, default

from .activity import count_only_changes
from .handlers import ServiceProxyHandler, SparkConnectHandler
from .sparkmagic_config import refresh_token
from .storage import StorageGuard


class LabdeckServerExtension(ExtensionApp):
    """Forwards `<base_url>labdeck/api/v1/...` to the labdeck service as the server's owner.

    The lab frontend calls its own server (cookie + XSRF as for any Jupyter API); the
    extension adds the server's hub token, so the browser never handles hub tokens.
    """

    name = "labdeck"

    service_url = Unicode(
        help="URL of the labdeck service. Default: $LABDECK_SERVICE_URL, set by the spawner.",
    ).tag(config=True)

    @default("service_url")
    def _service_url_default(self):
        return os.environ.get("LABDECK_SERVICE_URL", "")

    hub_api_token = Unicode(
        help="Token the extension presents to the service. Default: $JUPYTERHUB_API_TOKEN.",
    ).tag(config=True)

    @default("hub_api_token")
    def _hub_api_token_default(self):
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    owner = Unicode(
        help="Name of the user who owns this server. Default: $JUPYTERHUB_USER.",
    ).tag(config=True)

    @default("owner")
    def _owner_default(self):
        return os.environ.get("JUPYTERHUB_USER", "")

    request_timeout = Float(
        300.0,
        help="Seconds to wait for the service; long enough for slow Spark statements.",
    ).tag(config=True)

    storage_refresh_seconds = Float(
        10.0,
        help="How often to ask the labdeck service how much storage the owner uses.",
    ).tag(config=True)

    use_trash = Bool(
        False,
        help="""Move deleted files to the trash (in the home, so still counted) instead of
        deleting them. Off by default: with a storage quota, deleting must free space.""",
    ).tag(config=True)

    reads_are_activity = Bool(
        False,
        help="""Count the lab's API reads (listing kernels, sessions, terminals, folders;
        what an open JupyterLab tab polls every few seconds) as activity. Off: only what
        the user does (running code, terminals, saving, creating, deleting) keeps the lab
        from its runtime's idle timeout, so a lab left open overnight is culled.""",
    ).tag(config=True)

    def _link_jupyter_server_extension(self, serverapp):
        # Linked before the server makes its kernel manager: kernels' ZeroMQ traffic is
        # encrypted (CurveZMQ keys per kernel) where the kernel supports it, instead of
        # plain TCP every kernel warns about. An admin's own setting wins.
        kernels = serverapp.config.KernelManager
        if "transport_encryption" not in kernels and zmq.has("curve"):
            kernels.transport_encryption = "auto"
        super()._link_jupyter_server_extension(serverapp)

    def initialize_settings(self):
        if not self.reads_are_activity:
            count_only_changes()
        contents = self.serverapp.contents_manager
        if hasattr(contents, "delete_to_trash"):
            contents.delete_to_trash = self.use_trash
        self.storage_guard = StorageGuard(self)
        contents.register_pre_save_hook(self.storage_guard.check_save)
        self.storage_guard.guard_copies(contents)
        self._storage_refresh = PeriodicCallback(
            self.storage_guard.refresh, self.storage_refresh_seconds * 1000
        )

    async def _start_jupyter_server_extension(self, serverapp):
        if self.hub_api_token and refresh_token(self.hub_api_token):
            self.log.info("labdeck: refreshed the token in the sparkmagic config")
        if self.service_url:
            # first figures in the background: the lab must not wait for them to start
            self._first_refresh = asyncio.ensure_future(self.storage_guard.refresh())
            self._storage_refresh.start()

    async def stop_extension(self):
        self._storage_refresh.stop()

    def initialize_handlers(self):
        self.handlers.extend(
            [
                (r"/labdeck/api/v1/(?P<path>.*)", ServiceProxyHandler, {"extension": self}),
                (r"/labdeck/spark/connect", SparkConnectHandler, {"extension": self}),
            ]
        )
