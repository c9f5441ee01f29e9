"""Model deployments: a model folder served over HTTP by replicas behind the service.

A replica is `python -m labdeck.deployments.server` (see :mod:`.server`), run as the
owner's account; :mod:`.formats` knows the model folders it can serve and :mod:`.v2`
the Open Inference Protocol's typed tensors. :mod:`.spec` checks requests, :mod:`.local`
runs replicas, :mod:`.metrics` counts invocations per minute and :mod:`.loadtest` is
the recommender's load.

From a notebook: ``from labdeck.deployments import deploy`` (see :mod:`.client`).
"""

CLIENT_NAMES = ("Deployment", "deploy", "deployments")


def __getattr__(name: str):
    # the client needs requests; the service and the model server import this package
    if name in CLIENT_NAMES:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
