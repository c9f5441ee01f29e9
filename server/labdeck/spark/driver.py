"""One interactive Spark session: the process behind a session of the Livy-compatible gateway.

    python -m labdeck.spark.driver --master spark://127.0.0.1:7077 --app-name NAME \\
        --ready-file PATH [--kind pyspark|sql|spark] [--conf key=value ...] [--log-file PATH]

It starts a classic (py4j) SparkSession (and for `spark` sessions the Scala interpreter
at once; other sessions start it on their first Scala statement), serves a
token-protected HTTP API on a random loopback port (see driver_http), and announces
itself by writing the ready file:
`{"port", "token", "pid", "app_id", "spark_ui_url"}` (mode 0600), or `{"error"}` and a
non-zero exit if Spark cannot start. Statements run one at a time in the main thread,
so that a cancel can interrupt them with SIGINT the way Ctrl-C does in the pyspark shell.
`POST /shutdown` or SIGTERM stops Spark (and its JVM) and exits 0.
"""

import _thread
import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from .driver_exec import Interpreter, error_output
from .driver_http import DriverHTTPServer
from .driver_scala import CLASS_DIR_CONF, ScalaInterpreter
from .driver_spark import SparkSide
from .driver_statements import CANCELLING, Statement, StatementBook

log = logging.getLogger("labdeck.spark.driver")

CANCEL_TIMEOUT = 30.0  # Livy's default job cancel timeout
INTERRUPT_GRACE = 0.5  # let a cancelled Spark job end the statement before signalling
SHUTDOWN_DEADLINE = 15.0  # after this, a shutdown that hangs ends the process by force
JOB_DESCRIPTION_CHARS = 80


class Driver:
    """The session: statements in, Spark work done in the main thread, outputs out."""

    def __init__(
        self,
        spark: SparkSide,
        sql_max_rows: int = 1000,
        class_dir: str | None = None,
        scala_warming: Future | None = None,
    ) -> None:
        """class_dir: where Scala statements' classes go (no Scala without it);
        scala_warming: a Scala interpreter already starting (see warm_scala)."""
        self.spark = spark
        self.book = StatementBook()

        def start_scala() -> ScalaInterpreter:
            warm = scala_warming.result() if scala_warming else None
            return (warm or ScalaInterpreter(spark.spark._jvm, class_dir)).bind(spark.spark)

        self.interpreter = Interpreter(
            spark.user_namespace(), spark.spark, sql_max_rows, start_scala if class_dir else None
        )
        self.stopping = threading.Event()
        self._main_thread = threading.main_thread().ident

    # The HTTP API (called from request threads) -------------------------------------

    def submit(self, code: str, kind: str) -> dict:
        """Queue a statement; returns it, `waiting`."""
        return self.book.add(code, kind)

    def statements(self, start: int, size: int | None) -> dict:
        """Livy's statement list."""
        self._refresh_progress()
        total, statements = self.book.snapshots(start, size)
        return {"total_statements": total, "statements": statements}

    def statement(self, statement_id: int) -> dict | None:
        """One statement, with live progress while it runs; None if unknown."""
        statement = self.book.get(statement_id)
        if statement is None:
            return None
        if statement is self.book.running:
            self._refresh_progress()
        return self.book.snapshot(statement)

    def cancel(self, statement_id: int) -> bool:
        """Cancel a statement; False if there is no such statement."""
        found, running = self.book.cancel(statement_id)
        if running is not None:
            self._interrupt_soon(running)
        return found

    def status(self) -> dict:
        """Whether the session is busy, and what runs."""
        running = self.book.running
        return {
            "state": "busy" if self.book.busy() else "idle",
            "app_id": self.spark.app_id,
            "spark_ui_url": self.spark.ui_url,
            "executing": running.id if running else None,
            "last_activity": self.book.last_activity,
        }

    def shutdown(self) -> None:
        """Stop soon: cancel what runs or waits and let the main loop end (any thread)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        running = self.book.cancel_all()
        if running is not None:
            self._interrupt_soon(running)
        self.book.wake()
        threading.Thread(target=_force_exit_later, daemon=True, name="shutdown-deadline").start()

    # Running statements (main thread) -----------------------------------------------

    def serve(self) -> None:
        """Run statements one at a time until shutdown."""
        streams = sys.stdout, sys.stderr, sys.stdin
        while not self.stopping.is_set():
            statement = self.book.next(timeout=1.0)
            if statement is None:
                continue
            self._install_sigint()  # user code may have replaced it
            try:
                output = self._execute(statement)
            except KeyboardInterrupt as error:  # a repeated cancel signal, landing late
                output = error_output(statement.id, error)
            self.book.finish(statement, output)
            sys.stdout, sys.stderr, sys.stdin = streams  # in case user code swapped them

    def _execute(self, statement: Statement) -> dict:
        """Tag the statement's Spark jobs with its group, then run it."""
        if self.book.is_cancelling(statement):
            return {}  # cancelled between being taken and starting; finish() drops output
        try:
            description = statement.code[:JOB_DESCRIPTION_CHARS]
            self.spark.set_job_group(statement.job_group, description)
        except Exception as error:  # the JVM is gone: say so in the statement
            log.exception("cannot set the Spark job group")
            return error_output(statement.id, error)
        return self.interpreter.run(statement)

    # Cancelling ----------------------------------------------------------------------

    def _install_sigint(self) -> None:
        """Route SIGINT to the driver (pyspark installs a handler of its own)."""
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: object) -> None:
        """Raise KeyboardInterrupt in user code being cancelled; otherwise a cancel request.

        A SIGINT from outside (a terminal's Ctrl-C) cancels the running statement rather
        than killing the session, as in Livy. No locks here: the handler runs in the main
        thread, which may hold the statement book's lock when the signal lands.
        """
        running = self.book.running
        if running is None:
            return
        if running.state == CANCELLING:
            if self.interpreter.interruptible:
                raise KeyboardInterrupt
        else:
            threading.Thread(target=self.cancel, args=(running.id,), daemon=True).start()

    def _interrupt_soon(self, statement: Statement) -> None:
        """Interrupt from a thread of its own: callers must not wait for it."""
        threading.Thread(
            target=self._interrupt, args=(statement,), daemon=True, name="cancel"
        ).start()

    def _interrupt(self, statement: Statement) -> None:
        """Stop a cancelling statement: cancel its Spark jobs, then interrupt the main thread.

        The first interrupt only sets Python's signal flag (`_thread.interrupt_main`), so
        a py4j call waiting for a cancelled job is left to return cleanly; a real SIGINT
        follows if the statement still runs, to wake blocking calls such as time.sleep.
        Repeated (jobs may start after a cancel) until it ends or CANCEL_TIMEOUT passes.
        """
        deadline = time.monotonic() + CANCEL_TIMEOUT
        first = True
        while self.book.is_cancelling(statement) and time.monotonic() < deadline:
            self.spark.cancel_group(statement.job_group)
            self.interpreter.interrupt()
            if first:
                _thread.interrupt_main()
            else:
                signal.pthread_kill(self._main_thread, signal.SIGINT)
            first = False
            self.book.wait_finished(statement, INTERRUPT_GRACE)
        if self.book.is_cancelling(statement):
            log.warning("statement %d ignores its cancel", statement.id)

    def _refresh_progress(self) -> None:
        """Ask Spark how far the running statement's jobs are (HTTP threads)."""
        running = self.book.running
        if running is not None:
            progress = self.spark.progress(running.job_group)
            if progress is not None:
                self.book.set_progress(running, progress)


def _force_exit_later() -> None:
    """End the process if a shutdown has not finished in time (user code ignoring it)."""
    time.sleep(SHUTDOWN_DEADLINE)
    log.error("shutdown did not finish in %.0f s; exiting by force", SHUTDOWN_DEADLINE)
    from pyspark import SparkContext

    proc = getattr(SparkContext._gateway, "proc", None)
    if proc is not None:
        proc.kill()
    os._exit(1)


# Process plumbing -------------------------------------------------------------------


def write_ready_file(path: Path, content: dict) -> None:
    """Write the ready file atomically (temp file + rename), readable by the owner only."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def setup_logging(log_file: str | None) -> None:
    """Log to --log-file, and point fds 1 and 2 there too so the JVM (which inherits
    them) and Python workers log to the same file."""
    if log_file:
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    # sys.__stderr__ stays the process's stderr while statements swap sys.stderr.
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("py4j").setLevel(logging.WARNING)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m labdeck.spark.driver", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--master", required=True, help="Spark master URL, e.g. local[1]")
    parser.add_argument("--app-name", required=True, help="Spark application name")
    parser.add_argument("--ready-file", required=True, type=Path, help="where to announce")
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="Spark setting"
    )
    parser.add_argument(
        "--kind",
        choices=("pyspark", "sql", "spark"),
        default="pyspark",
        help="the session's kind: `spark` starts the Scala interpreter before it is ready",
    )
    parser.add_argument("--log-file", help="driver, Spark and py4j log (default: stderr)")
    parser.add_argument(
        "--sql-max-rows", type=int, default=1000, help="rows returned by a SQL statement"
    )
    return parser.parse_args(argv)


def parse_confs(pairs: list[str]) -> dict[str, str]:
    """`key=value` strings as a dict; Spark Connect settings are refused."""
    confs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--conf needs key=value, got {pair!r}")
        if key.strip() in ("spark.remote", "spark.api.mode"):
            raise ValueError(f"{key.strip()} is not allowed: sessions use classic Spark")
        confs[key.strip()] = value
    return confs


def main(argv: list[str] | None = None) -> int:
    """Start Spark and the API, announce them, run statements until shutdown."""
    args = parse_args(argv)
    setup_logging(args.log_file)
    log_start = _log_size(args.log_file)
    # Until statements run, SIGTERM and SIGINT just abort the start (ready file says so).
    signal.signal(signal.SIGTERM, _abort_start)
    signal.signal(signal.SIGINT, _abort_start)
    # Classes that Scala statements define go here, for executors to fetch.
    class_dir = tempfile.mkdtemp(prefix="repl-classes-", dir=args.ready_file.parent)
    confs = {**parse_confs(args.conf), CLASS_DIR_CONF: class_dir}
    warming: list[Future] = []
    try:
        spark = SparkSide.start(
            args.master,
            args.app_name,
            confs,
            # a Scala session's compiler warms up while Spark starts (both take seconds)
            jvm_ready=(lambda jvm: warming.append(warm_scala(jvm, class_dir)))
            if args.kind == "spark"
            else None,
        )
        driver = Driver(spark, args.sql_max_rows, class_dir, warming[0] if warming else None)
        if args.kind == "spark":
            driver.interpreter.scala()
    except BaseException as error:
        log.exception("Spark did not start")
        reason = _jvm_failure(args.log_file, log_start)
        message = _first_line(error) + (f" {reason}" if reason else "")
        write_ready_file(args.ready_file, {"error": message})
        SparkSide.stop_leftover_jvm()
        shutil.rmtree(class_dir, ignore_errors=True)
        return 1
    # The handler only starts a thread: shutdown() takes locks the main thread may hold.
    signal.signal(
        signal.SIGTERM,
        lambda signum, frame: threading.Thread(target=driver.shutdown, daemon=True).start(),
    )
    driver._install_sigint()
    token = secrets.token_urlsafe(32)
    server = DriverHTTPServer(driver, token)
    threading.Thread(target=server.serve_forever, daemon=True, name="http").start()
    write_ready_file(
        args.ready_file,
        {
            "port": server.port,
            "token": token,
            "pid": os.getpid(),
            "app_id": spark.app_id,
            "spark_ui_url": spark.ui_url,
        },
    )
    log.info("session %s ready on 127.0.0.1:%d", spark.app_id, server.port)
    driver.serve()
    log.info("shutting down")
    server.shutdown()
    spark.stop()
    shutil.rmtree(class_dir, ignore_errors=True)
    log.info("stopped")
    return 0


def warm_scala(jvm: object, class_dir: str) -> Future:
    """Start a Scala interpreter in a thread of its own; the Future gives it."""
    future: Future = Future()

    def start() -> None:
        try:
            future.set_result(ScalaInterpreter(jvm, class_dir))
        except BaseException as error:  # said when the session's start asks for it
            future.set_exception(error)

    threading.Thread(target=start, daemon=True, name="scala-warmup").start()
    return future


def _abort_start(signum: int, frame: object) -> None:
    """Turn SIGTERM/SIGINT during startup into an orderly failed start."""
    raise SystemExit(f"stopped by signal {signal.Signals(signum).name} before Spark started")


def _log_size(log_file: str | None) -> int:
    """Where this run's lines start in the (appended) log file."""
    return os.path.getsize(log_file) if log_file else 0


def _jvm_failure(log_file: str | None, offset: int) -> str:
    """Why spark-submit gave up, from its last exception line in the log (pyspark itself
    only says that the Java gateway exited)."""
    if not log_file:
        return ""
    with open(log_file, errors="replace") as handle:
        handle.seek(offset)
        lines = [line.strip() for line in handle if line.startswith(_JVM_ERROR_PREFIXES)]
    return lines[-1][:1000] if lines else ""


_JVM_ERROR_PREFIXES = ("Exception in thread", "Error:")


def _first_line(error: BaseException) -> str:
    """A short message for the ready file (Java errors carry long stack traces)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:2000]


if __name__ == "__main__":
    sys.exit(main())
