"""Spark web UIs (the master's, and each application's through it) behind hub login.

Spark's own reverse proxy (spark.ui.reverseProxy) makes every link point under
/services/labdeck/clusters/<id>/ui/; this handler checks who is asking and relays. The
UIs refuse anyone without the cluster's UI key (see spark/ui_auth): the handler signs
each request, and sends it only once the listener is known to be the cluster's master.
"""

import html

from jupyterhub.services.auth import HubOAuthenticated
from tornado import httpclient, web

RELAYED_HEADERS = ("Content-Type", "Cache-Control", "Last-Modified")
# A Spark UI shows what applications say of themselves (names, descriptions, hosts): it
# is served in a sandbox, an origin of its own, so nothing in it can act as the viewer
# on the hub (an admin looking at a student's application included).
UI_SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-downloads"


class SparkUIHandler(HubOAuthenticated, web.RequestHandler):
    """GET only (the UIs' kill links are off): owner and admins, everyone else 404."""

    @web.authenticated
    async def get(self, id, path):
        service = self.settings["labdeck"]
        clusters = service.clusters
        cluster = clusters.get(id)
        user = self.current_user
        allowed = cluster is not None and (user.get("admin") or cluster.user == user["name"])
        if not allowed:
            raise web.HTTPError(404)
        if cluster.state != "RUNNING":
            self.set_status(409)
            self.finish(
                f"<p>Cluster {html.escape(cluster.name)} is {cluster.state.lower()}; "
                "its Spark UI is available while it runs.</p>"
            )
            return
        try:
            origin, headers = await clusters.ui_access(cluster)
        except OSError as e:
            raise web.HTTPError(502, "The Spark UI did not answer.") from e
        url = f"{origin}/{path}"
        if self.request.query:
            url += "?" + self.request.query
        response = await httpclient.AsyncHTTPClient().fetch(
            url, headers=headers, follow_redirects=False, raise_error=False, request_timeout=30
        )
        if response.code == 599:
            raise web.HTTPError(502, "The Spark UI did not answer.")
        self.set_status(response.code)
        self.set_header("Content-Security-Policy", UI_SANDBOX)
        self.set_header("X-Content-Type-Options", "nosniff")
        for name in RELAYED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        if "Location" in response.headers:
            prefix = f"{service.base_url.rstrip('/')}/clusters/{id}/ui"
            location = response.headers["Location"]
            if location.startswith(origin):
                location = prefix + location[len(origin) :]
            self.set_header("Location", location)
        self.finish(response.body)


default_handlers = [("clusters/{id}/ui/{path*}", SparkUIHandler)]
