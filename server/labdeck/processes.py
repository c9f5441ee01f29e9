"""Find the processes one labdeck instance started (and keep a child from outliving
the process that watches it).

Every process a `labdeck up` starts (hub, proxy, service, user servers) carries
LABDECK_INSTANCE=<id> in its environment; after the hub stops, anything still
carrying the marker is a leftover, ended by pid (`supervisor.end_pids`).
"""

import ctypes
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


PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent(sig: int) -> None:
    """Have the calling process get `sig` when its parent dies (call it in a child
    before exec, e.g. as preexec_fn): nothing it runs is left unwatched."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
