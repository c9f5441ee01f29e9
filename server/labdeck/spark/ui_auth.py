"""Spark web UIs (master, workers, applications) that answer labdeck only.

Each UI runs Spark's own `JWSFilter` with the cluster's UI key: a request without a
fresh token signed with that key is refused (403), so another local account that finds
a UI's loopback port gets nothing. labdeck's proxy and its status checks sign a token
for every request; the master's reverse proxy passes the header on to the workers' and
applications' UIs, which check it against the same key.

The key is derived from the cluster's `spark.authenticate` secret: whoever may run code
on the cluster may see its UIs, and the drivers labdeck starts (which get the secret in
their environment) and a restarted service (which saved it) can make it on their own.
Like the secret, it goes in 0600 files and through py4j, never on a command line.
"""

from .. import jws

FILTER = "org.apache.spark.ui.JWSFilter"
KEY_PURPOSE = "labdeck spark ui"


def ui_key(secret: str) -> str:
    """The UI key of the cluster whose `spark.authenticate` secret this is."""
    return jws.derive_key(secret, KEY_PURPOSE)


def ui_conf(secret: str) -> dict[str, str]:
    """Spark settings that make a master's, worker's or driver's UI require the key
    (and tokens that expire)."""
    return {
        "spark.ui.filters": FILTER,
        f"spark.{FILTER}.param.secretKey": ui_key(secret),
        f"spark.{FILTER}.param.requireExpiration": "true",
    }


def ui_headers(secret: str | None) -> dict[str, str]:
    """Headers that let labdeck into the cluster's UIs (none if it has no secret)."""
    return {"Authorization": jws.bearer(ui_key(secret))} if secret else {}
