"""REST handlers of the service, one module per resource (as jupyterhub/apihandlers)."""

from . import me, openapi, pages

default_handlers = [*me.default_handlers, *openapi.default_handlers]
page_handlers = pages.default_handlers
