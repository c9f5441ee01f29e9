"""How much each user stores in their home, measured off the event loop and cached."""

import asyncio
import os
import time
from pathlib import Path

from traitlets import Float, Unicode, default
from traitlets.config import Configurable

from ..paths import default_state_dir


def measure(path: Path) -> int:
    """Bytes of all files under path (apparent size, what users see in the file browser)."""
    total = 0
    stack = [path]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    return total


class StorageMeter(Configurable):
    """Cached per-user storage use of the homes on this machine."""

    homes = Unicode(help="Directory holding one home per user. Default: <state-dir>/homes.").tag(
        config=True
    )

    @default("homes")
    def _homes_default(self):
        return str(default_state_dir() / "homes")

    max_age_seconds = Float(
        30.0,
        help="Measure a home again when its figure is older than this.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cache: dict[str, tuple[float, int]] = {}
        self._running: dict[str, asyncio.Future] = {}

    async def used_bytes(self, user: str) -> int:
        """A recent figure: the cached one while it is fresh, else a new measurement."""
        cached = self._cache.get(user)
        if cached and time.monotonic() - cached[0] < self.max_age_seconds:
            return cached[1]
        if user not in self._running:
            loop = asyncio.get_running_loop()
            # one walk per user at a time, in a worker thread
            self._running[user] = loop.run_in_executor(None, measure, Path(self.homes) / user)
        future = self._running[user]
        try:
            used = await asyncio.shield(future)
        finally:
            if self._running.get(user) is future and future.done():
                del self._running[user]
        self._cache[user] = (time.monotonic(), used)
        return used
