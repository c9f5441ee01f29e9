"""Run one statement's code in the session namespace and build its Livy output.

Python code runs like a notebook cell: stdout and stderr are captured, and the repr of
a final expression is appended. Lines starting with `%` are Livy magics when the code
does not parse as plain Python. SQL runs through `spark.sql` and returns Livy's SQL
interpreter shape. Nothing user code raises (SystemExit and KeyboardInterrupt included)
escapes: it becomes an error output whose traceback starts at the user's code.
"""

import ast
import io
import json
import linecache
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from .driver_magics import MAGICS, MagicError, to_json_value
from .driver_statements import Statement


class _TextSink(io.StringIO):
    """A captured stream that also accepts bytes, like Livy's (some libraries write bytes)."""

    def write(self, text: str | bytes) -> int:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        return super().write(text)


@contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """Send sys.stdout and sys.stderr to one buffer, so prints and warnings stay in order."""
    saved = sys.stdout, sys.stderr, sys.stdin
    sink = _TextSink()
    # An empty stdin makes `input()` fail at once instead of hanging the session.
    sys.stdout, sys.stderr, sys.stdin = sink, sink, io.StringIO()
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved


def split_chunks(code: str, filename: str = "<cell>") -> list[tuple[int, str]]:
    """Split a cell into (first line number, text) chunks: Python code or `%magic` lines.

    Like Livy, code that parses as Python is one chunk even if a line starts with `%`
    (a continued expression can); only code that does not parse is split at magic lines.
    """
    try:
        ast.parse(code, filename)
    except SyntaxError:
        if not any(line.startswith("%") for line in code.splitlines()):
            raise
    else:
        return [(1, code)]
    chunks: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 1
    for number, line in enumerate(code.rstrip().splitlines(), start=1):
        if line.startswith("%"):
            if pending:
                chunks.append((start, "\n".join(pending)))
            chunks.append((number, line))
            pending, start = [], number + 1
        else:
            pending.append(line)
    if pending:
        chunks.append((start, "\n".join(pending)))
    return chunks


def error_output(count: int, error: BaseException, filename: str | None = None) -> dict:
    """A Livy error output; the traceback is cut to start at the user's own code."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    lines = traceback.format_exception(type(error), error, tb, chain=False)
    return {
        "status": "error",
        "execution_count": count,
        "ename": type(error).__name__,
        "evalue": str(error),
        "traceback": lines,
    }


def ok_output(count: int, data: dict) -> dict:
    """A Livy ok output, checked to be JSON now so serving it can never fail later."""
    output = {"status": "ok", "execution_count": count, "data": data}
    json.dumps(output)
    return output


class ScalaRunner(Protocol):
    """What runs `spark` (Scala) statements (see driver_scala)."""

    def run(self, statement: Statement) -> dict: ...
    def interrupt(self) -> None: ...


class Interpreter:
    """Executes statements in one persistent namespace (main thread only).

    `interruptible` is True exactly while Python user code runs: the driver's SIGINT
    handler raises KeyboardInterrupt only then, so a cancel never breaks the driver's own
    bookkeeping, nor a py4j call in flight (Scala statements are interrupted in the JVM).
    The Scala interpreter starts on the first Scala statement, or at once with `scala()`.
    """

    def __init__(
        self,
        namespace: dict,
        spark: object,
        sql_max_rows: int = 1000,
        start_scala: Callable[[], ScalaRunner] | None = None,
    ) -> None:
        self.namespace = namespace
        self.spark = spark
        self.sql_max_rows = sql_max_rows
        self.interruptible = False
        self._start_scala = start_scala
        self._scala: ScalaRunner | None = None

    def scala(self) -> ScalaRunner:
        """The session's Scala interpreter, started on first use."""
        if self._scala is None:
            if self._start_scala is None:
                raise RuntimeError("this session cannot run Scala")
            self._scala = self._start_scala()
        return self._scala

    def interrupt(self) -> None:
        """Interrupt a Scala statement in the JVM (a cancel's thread; Python statements
        are interrupted by signals instead)."""
        if self._scala is not None:
            self._scala.interrupt()

    def run(self, statement: Statement) -> dict:
        """Run one statement of any kind; always returns an output, never raises."""
        try:
            if statement.kind == "sql":
                return self._run_sql(statement)
            if statement.kind == "spark":
                return self.scala().run(statement)
            return self._run_python(statement)
        except BaseException as error:  # e.g. a cancel landing just after the user's code
            self.interruptible = False  # first: a repeated cancel signal must not land here
            return error_output(statement.id, error)
        finally:
            self.interruptible = False

    def _run_python(self, statement: Statement) -> dict:
        """Run Python code (with magics); output text is prints, then the last repr."""
        filename = f"<statement-{statement.id}>"
        # Registered so tracebacks (now and from functions defined here) show the source.
        lines = statement.code.splitlines(keepends=True)
        linecache.cache[filename] = (len(statement.code), None, lines, filename)
        data: dict = {}
        with captured_output() as sink:
            try:
                for first_line, text in split_chunks(statement.code, filename):
                    data = self._run_chunk(first_line, text, filename)
            except BaseException as error:  # user code may raise anything, even SystemExit
                self.interruptible = False
                return error_output(statement.id, error, filename)
        text = (data.pop("text/plain", "") + sink.getvalue()).rstrip()
        # As in Livy: text/plain is there if there is text, or if nothing else is.
        if text or not data:
            data["text/plain"] = text
        try:
            return ok_output(statement.id, data)
        except (TypeError, ValueError) as error:
            return error_output(statement.id, error)

    def _run_chunk(self, first_line: int, text: str, filename: str) -> dict:
        """Run one chunk: a magic line gives its data; Python code gives none."""
        # Leading newlines keep line numbers (and SyntaxError positions) those of the cell.
        padded = "\n" * (first_line - 1) + text
        if text.startswith("%"):
            return self._run_magic(padded, filename)
        tree = ast.parse(padded, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = compile(tree, filename, "exec")
        self.interruptible = True
        exec(body, self.namespace)  # noqa: S102 — running the user's code is the point
        if last is not None:
            expression = compile(ast.Expression(last.value), filename, "eval")
            value = eval(expression, self.namespace)  # noqa: S307
            self.interruptible = False
            if value is not None:
                self.namespace["_"] = value
                print(repr(value))
        self.interruptible = False
        return {}

    def _run_magic(self, padded: str, filename: str) -> dict:
        """Evaluate `%name expression` and convert the value with the named magic."""
        line = padded.lstrip("\n")
        name, _, expression = line[1:].partition(" ")
        magic = MAGICS.get(name)
        if magic is None:
            raise MagicError(f"unknown magic command '%{name}'" if name else "magic without name")
        if not expression.strip():
            raise MagicError(f"%{name} needs an expression, e.g. %{name} value")
        source = padded[: len(padded) - len(line)] + expression.strip()
        self.interruptible = True
        value = eval(compile(source, filename, "eval"), self.namespace)  # noqa: S307
        self.interruptible = False
        return magic(value)

    def _run_sql(self, statement: Statement) -> dict:
        """Run Spark SQL; the data is Livy's `{"schema", "data"}` as application/json."""
        try:
            self.interruptible = True
            frame = self.spark.sql(statement.code)
            rows = frame.take(self.sql_max_rows)
            self.interruptible = False
            schema = json.loads(frame.schema.json())
        except BaseException as error:  # a SQL error is the user's, shown like Livy's
            self.interruptible = False
            return error_output(statement.id, error)
        data = [[to_json_value(value) for value in row] for row in rows]
        return ok_output(statement.id, {"application/json": {"schema": schema, "data": data}})
