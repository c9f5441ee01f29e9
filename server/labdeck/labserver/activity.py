"""What counts as using a lab, for the activity the lab reports to the hub.

The hub's `last_activity` of a lab (what labdeck's idle culler reads) comes from the lab's
own report: its kernels, its terminals and its API calls. An open JupyterLab tab reads the
server every few seconds (kernels, sessions, terminals, the folder shown, labdeck's panels)
while nobody touches it, so reads must not count, or a lab left open overnight would never
be idle. What the user does (run code, type in a terminal, save, create, delete) still
counts. jupyter_server's own hook for this is a handler's `_track_activity`.
"""

from jupyter_server.base.handlers import APIHandler

READS = ("GET", "HEAD", "OPTIONS")


def _counts_as_activity(handler: APIHandler) -> bool:
    return handler.request.method not in READS


def count_only_changes() -> None:
    """Make API reads not count as activity, in this server (handlers that never count,
    such as `api/status`, keep their own `False`)."""
    APIHandler._track_activity = property(_counts_as_activity)
