"""REST handlers of the service, one module per resource (as jupyterhub/apihandlers)."""

from . import admin, me, openapi, pages, sessions

default_handlers = [
    *me.default_handlers,
    *sessions.default_handlers,
    *admin.default_handlers,
    *openapi.default_handlers,
]
page_handlers = pages.default_handlers
