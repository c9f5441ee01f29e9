"""LabdeckServerExtension: exposes the labdeck API inside the user's own server."""

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode, default

from .handlers import ServiceProxyHandler


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

    def initialize_handlers(self):
        self.handlers.append(
            (r"/labdeck/api/v1/(?P<path>.*)", ServiceProxyHandler, {"extension": self})
        )
