"""REST handlers of the service, one module per resource (as jupyterhub/apihandlers)."""

from . import (
    admin,
    clusters,
    courses,
    deployments,
    endpoints,
    grants,
    jobs,
    livy,
    livy_batches,
    me,
    openapi,
    pages,
    runtimes,
    sessions,
    sparkui,
)

default_handlers = [
    *me.default_handlers,
    *runtimes.default_handlers,
    *sessions.default_handlers,
    *clusters.default_handlers,
    *jobs.default_handlers,
    *deployments.default_handlers,
    *endpoints.default_handlers,
    *livy.default_handlers,
    *livy_batches.default_handlers,
    *admin.default_handlers,
    *courses.default_handlers,
    *grants.default_handlers,
    *openapi.default_handlers,
]
page_handlers = [*pages.default_handlers, *sparkui.default_handlers]
