"""Notebook helpers: a client of the labdeck service and the Spark cluster picker.

::

    from labdeck.widgets import ClusterPicker, LabdeckClient
    display(ClusterPicker())
"""

from .client import LabdeckClient, LabdeckError
from .spark import ClusterPicker

__all__ = ["ClusterPicker", "LabdeckClient", "LabdeckError"]
