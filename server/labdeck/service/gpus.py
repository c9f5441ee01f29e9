"""The GPU pool: devices assigned exclusively, and a first-come queue when none is free."""

import asyncio
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from traitlets import Float, List, Unicode, default
from traitlets.config import Configurable


def detect_gpus() -> list[str]:
    """GPU indices nvidia-smi reports, or none."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in output.splitlines() if line.strip()]


@dataclass
class Waiter:
    user: str
    count: int
    last_poll: float = field(default_factory=time.monotonic)


class GPUPool(Configurable):
    """Hands out GPU ids; a user waits in line when not enough are free.

    The queue is strictly first come, first served: a freed GPU goes to the head of the
    queue, even when someone behind needs fewer.
    """

    ids = List(
        Unicode(),
        help="GPU ids to hand out (as CUDA_VISIBLE_DEVICES values). Default: from nvidia-smi.",
    ).tag(config=True)

    @default("ids")
    def _ids_default(self):
        return detect_gpus()

    queue_timeout = Float(
        60.0,
        help="Drop a queued user whose spawn has not asked again for this many seconds.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.owner: dict[str, str] = {}  # gpu id -> user
        self.queue: list[Waiter] = []
        self.changed = asyncio.Event()

    def restore(self, user: str, gpus: list[str]) -> None:
        """Record an assignment that exists already (open sessions after a restart)."""
        for gpu in gpus:
            if gpu in self.ids:
                self.owner[gpu] = user

    @property
    def free(self) -> list[str]:
        return [gpu for gpu in self.ids if gpu not in self.owner]

    def position(self, user: str) -> int | None:
        """1-based place of user in the queue, or None."""
        self._drop_stale()
        for index, waiter in enumerate(self.queue):
            if waiter.user == user:
                return index + 1
        return None

    def try_assign(self, user: str, count: int) -> list[str] | None:
        """GPUs for user if it is their turn and enough are free; else queue them."""
        self._drop_stale()
        place = self.position(user)
        first_in_line = place == 1 or (place is None and not self.queue)
        if first_in_line and len(self.free) >= count:
            granted = self.free[:count]
            for gpu in granted:
                self.owner[gpu] = user
            self.leave(user)
            return granted
        if place is None:
            self.queue.append(Waiter(user, count))
        else:
            self.queue[place - 1].last_poll = time.monotonic()
        return None

    def leave(self, user: str) -> None:
        self.queue = [w for w in self.queue if w.user != user]
        self._notify()

    def release(self, gpus: list[str]) -> None:
        for gpu in gpus:
            self.owner.pop(gpu, None)
        self._notify()

    async def wait_for_change(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            pass

    def _notify(self) -> None:
        # wake every waiter once; each re-checks its turn
        self.changed.set()
        self.changed = asyncio.Event()

    def _drop_stale(self) -> None:
        cutoff = time.monotonic() - self.queue_timeout
        stale = [w for w in self.queue if w.last_poll < cutoff]
        if stale:
            self.queue = [w for w in self.queue if w.last_poll >= cutoff]
            self._notify()
