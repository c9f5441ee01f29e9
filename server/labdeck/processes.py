"""Find the processes one labdeck instance started.

Every process a `labdeck up` starts (hub, proxy, service, user servers) carries
LABDECK_INSTANCE=<id> in its environment; after the hub stops, anything still
carrying the marker is a leftover, ended by pid (`supervisor.end_pids`).
"""

import os
from pathlib import Path

MARKER = "LABDECK_INSTANCE"


def pids_with_marker(instance: str) -> list[int]:
    needle = f"{MARKER}={instance}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
