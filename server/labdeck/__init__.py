"""labdeck: a self-hosted studio lab on JupyterHub."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "labdeck"}]


def _jupyter_server_extension_points():
    from .labserver.app import LabdeckServerExtension

    return [{"module": "labdeck", "app": LabdeckServerExtension}]
