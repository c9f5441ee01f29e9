"""Training jobs: a script or a command run in the background as its owner's account.

From a notebook: ``from labdeck.jobs import submit`` (see :mod:`labdeck.jobs.client`).
"""

CLIENT_NAMES = ("Job", "jobs", "submit")


def __getattr__(name: str):
    # the client needs requests; the service imports this package without it
    if name in CLIENT_NAMES:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
