"""REST handlers of the service, one module per resource (as jupyterhub/apihandlers)."""

from . import (
    admin,
    clusters,
    deployments,
    endpoints,
    jobs,
    livy,
    livy_batches,
    me,
    openapi,
    pages,
    sessions,
    sparkui,
)

default_handlers = [
    *me.default_handlers,
    *sessions.default_handlers,
    *clusters.default_handlers,
    *jobs.default_handlers,
    *deployments.default_handlers,
    *endpoints.default_handlers,
    *livy.default_handlers,
    *livy_batches.default_handlers,
    *admin.default_handlers,
    *openapi.default_handlers,
]
page_handlers = [*pages.default_handlers, *sparkui.default_handlers]
