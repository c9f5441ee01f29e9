"""Browser pages of the service: the OAuth callback and a landing page."""

import html

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web


class LandingHandler(HubOAuthenticated, web.RequestHandler):
    """Visiting /services/labdeck/ logs the browser in (hub OAuth) and says where the API is."""

    @web.authenticated
    def get(self):
        name = html.escape(self.current_user["name"])
        # Sets the _xsrf cookie: scripts calling the API with the OAuth cookie send it
        # back as an X-XSRFToken header, as JupyterHub requires of cookie-authenticated fetches.
        xsrf = html.escape(self.xsrf_token.decode())
        self.finish(
            "<!doctype html><title>labdeck</title>"
            f'<meta name="labdeck-xsrf" content="{xsrf}">'
            f"<h1>labdeck control plane</h1><p>Signed in as <b>{name}</b>.</p>"
            '<p>REST API: <a href="api/v1/me">api/v1/me</a>, '
            '<a href="api/v1/openapi.json">api/v1/openapi.json</a></p>'
        )


default_handlers = [("oauth_callback", HubOAuthCallbackHandler), ("", LandingHandler)]
