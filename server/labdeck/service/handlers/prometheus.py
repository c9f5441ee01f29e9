"""`/services/labdeck/metrics`: the service's Prometheus metrics (service/prometheus.py).

Outside api/v1, as the hub's own `/hub/metrics`, and readable by the same callers: hub
admins, and tokens with the hub's `read:metrics` scope (a Prometheus service token also
needs `access:services!service=labdeck` to reach the service at all).
"""

from prometheus_client import CONTENT_TYPE_LATEST

from ..errors import APIError
from .base import APIHandler

METRICS_SCOPE = "read:metrics"


class MetricsHandler(APIHandler):
    """GET: Prometheus' text format. Not in the OpenAPI document: not part of the API."""

    def get(self):
        if not (self.is_admin or METRICS_SCOPE in self.current_user.get("scopes", ())):
            raise APIError(
                403,
                "forbidden",
                "labdeck's metrics are for hub admins and tokens with the read:metrics scope.",
            )
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(self.service.metrics.exposition())


default_handlers = [("metrics", MetricsHandler)]
