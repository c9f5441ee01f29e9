"""The statements of one Spark driver session: Livy-shaped records, their states, their queue.

HTTP threads add, read and cancel statements; the main thread takes them one at a time
and finishes them. One lock guards every state change so that a cancel and a finish
never interleave, and a condition lets the canceller wait for the end of a statement.
"""

import queue
import threading
import time
from dataclasses import dataclass

WAITING = "waiting"
RUNNING = "running"
AVAILABLE = "available"
CANCELLING = "cancelling"
CANCELLED = "cancelled"
FINISHED = frozenset({AVAILABLE, CANCELLED})


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the unit of Livy's `started`/`completed`."""
    return int(time.time() * 1000)


@dataclass
class Statement:
    """One submitted piece of code, with the fields of an Apache Livy statement."""

    id: int
    code: str
    kind: str
    state: str = WAITING
    output: dict | None = None
    progress: float = 0.0
    started: int = 0
    completed: int = 0

    @property
    def job_group(self) -> str:
        """The Spark job group of this statement, for progress and cancellation."""
        return f"labdeck-stmt-{self.id}"

    def to_json(self) -> dict:
        """The statement exactly as Livy returns it (sparkmagic reads these fields)."""
        return {
            "id": self.id,
            "code": self.code,
            "state": self.state,
            "output": self.output,
            "progress": self.progress,
            "started": self.started,
            "completed": self.completed,
        }


class StatementBook:
    """All statements of the session, the FIFO of waiting ones, and the running one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._statements: list[Statement] = []
        # The queue only wakes the main thread; the truth about states stays in the records.
        self._queue: queue.Queue[Statement | None] = queue.Queue()
        self.running: Statement | None = None
        self.last_activity = now_ms()

    def add(self, code: str, kind: str) -> dict:
        """Record a new waiting statement and queue it; returns its JSON."""
        with self._lock:
            statement = Statement(id=len(self._statements), code=code, kind=kind)
            self._statements.append(statement)
            snapshot = statement.to_json()
        self._queue.put(statement)
        return snapshot

    def get(self, statement_id: int) -> Statement | None:
        """The statement with this id, or None."""
        with self._lock:
            if 0 <= statement_id < len(self._statements):
                return self._statements[statement_id]
        return None

    def snapshot(self, statement: Statement) -> dict:
        """A consistent JSON copy of one statement."""
        with self._lock:
            return statement.to_json()

    def snapshots(self, start: int = 0, size: int | None = None) -> tuple[int, list[dict]]:
        """(total, JSON copies of statements[start:start+size]) like Livy's `from`/`size`."""
        with self._lock:
            chosen = self._statements[start : None if size is None else start + size]
            return len(self._statements), [s.to_json() for s in chosen]

    def set_progress(self, statement: Statement, progress: float) -> None:
        """Remember the latest progress of a running statement."""
        with self._lock:
            if statement.state in (RUNNING, CANCELLING):
                statement.progress = progress

    def next(self, timeout: float) -> Statement | None:
        """Take the next waiting statement and mark it running (main thread only).

        Returns None after `timeout` seconds without work or when woken by `wake()`.
        Statements cancelled while waiting are skipped.
        """
        try:
            statement = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if statement is None:
            return None
        with self._lock:
            if statement.state != WAITING:
                return None
            statement.state = RUNNING
            statement.started = self.last_activity = now_ms()
            self.running = statement
        return statement

    def finish(self, statement: Statement, output: dict) -> None:
        """End the running statement: available with its output, or cancelled if asked."""
        with self._lock:
            if statement.state == CANCELLING:
                # A cancelled statement has no result; whatever it raised is the cancel.
                statement.state, statement.output = CANCELLED, None
            else:
                statement.state, statement.output = AVAILABLE, output
            statement.progress = 1.0
            statement.completed = self.last_activity = now_ms()
            self.running = None
            self._changed.notify_all()

    def cancel(self, statement_id: int) -> tuple[bool, Statement | None]:
        """Cancel a statement the way Livy does.

        Returns (found, statement to interrupt): a waiting statement is dropped at once,
        a running one becomes `cancelling` and is returned so the caller stops it; a
        finished (or already cancelling) one keeps its state.
        """
        with self._lock:
            if not 0 <= statement_id < len(self._statements):
                return False, None
            statement = self._statements[statement_id]
            if statement.state == WAITING:
                statement.state = CANCELLED
                statement.completed = now_ms()
                self._changed.notify_all()
            elif statement.state == RUNNING:
                statement.state = CANCELLING
                return True, statement
            return True, None

    def cancel_all(self) -> Statement | None:
        """Cancel every waiting statement; returns the running one (now cancelling), if any."""
        with self._lock:
            ids = [s.id for s in self._statements if s.state in (WAITING, RUNNING)]
        to_interrupt = None
        for statement_id in ids:
            _found, running = self.cancel(statement_id)
            to_interrupt = running or to_interrupt
        return to_interrupt

    def is_cancelling(self, statement: Statement) -> bool:
        """True while the statement is being cancelled and has not ended yet."""
        with self._lock:
            return statement.state == CANCELLING

    def wait_finished(self, statement: Statement, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the statement to end; True if it has."""
        with self._changed:
            return self._changed.wait_for(lambda: statement.state in FINISHED, timeout)

    def busy(self) -> bool:
        """True while a statement runs or waits."""
        with self._lock:
            return any(s.state in (WAITING, RUNNING, CANCELLING) for s in self._statements)

    def wake(self) -> None:
        """Wake the main thread if it waits for work (used on shutdown)."""
        self._queue.put(None)
