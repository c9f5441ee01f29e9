"""Model deployments: a model folder served over HTTP by replicas behind the service.

A replica is `python -m labdeck.deployments.server` (see :mod:`.server`), run as the
owner's account; :mod:`.formats` knows the model folders it can serve and
:mod:`.v2` the Open Inference Protocol's typed tensors.
"""
