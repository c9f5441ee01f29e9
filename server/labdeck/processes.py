"""Find and end the processes one labdeck instance started.

Every process a `labdeck up` starts (hub, proxy, service, user servers) carries
LABDECK_INSTANCE=<id> in its environment; after the hub stops, anything still
carrying the marker is a leftover and is ended by pid.
"""

import os
import signal
import time
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


def end_processes(pids: list[int], grace_seconds: float = 5.0) -> None:
    """SIGTERM, wait up to grace_seconds, then SIGKILL whatever is left."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _is_alive(pid)]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _is_alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return status != "Z"
