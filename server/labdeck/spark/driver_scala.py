"""Scala statements in the driver's own JVM, as Livy's `spark` kind runs them.

The Scala 2.13 interpreter (`IMain`, from the scala-compiler and spark-repl jars that ship
with pyspark) is driven over py4j from the driver's main thread. That thread always talks
to the same JVM thread (pyspark's pinned thread mode), so what is per thread on the JVM
side holds across statements: where `println` writes (`Console.out`), the class loader
that knows the classes statements define, and the Spark job group of the statement.

Classes compiled by statements are written to the directory Spark serves to executors
(`spark.repl.class.outputDir`, set before the SparkContext starts), so closures that use
them run on the cluster.
"""

import re

from .driver_exec import ok_output
from .driver_statements import Statement

# What every Scala session starts with, as in Livy and spark-shell. @transient keeps the
# session objects out of the closures that class-based REPL lines ship to executors.
PRELUDE = """\
@transient val spark = org.apache.spark.sql.SparkSession.builder.getOrCreate()
@transient val sc = spark.sparkContext
@transient val sqlContext = spark.sqlContext
import org.apache.spark.SparkContext._
import spark.implicits._
import spark.sql
import org.apache.spark.sql.functions._
"""
CLASS_DIR_CONF = "spark.repl.class.outputDir"
# `java.lang.ArithmeticException: / by zero` (a runtime error as the REPL prints it)
EXCEPTION_LINE = re.compile(r"(?P<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+): ?(?P<value>.*)")
COMPILE_ERROR = re.compile(r"^\s*(?:<\w+>:\d+: )?error: (?P<value>.*)$", re.MULTILINE)


class ScalaError(Exception):
    """The Scala interpreter could not start."""


class ScalaInterpreter:
    """One Scala REPL bound to the session's SparkSession.

    Made in two steps: the compiler starts (and compiles a first line, which loads most
    of it) with only the JVM, so it can warm up in another thread while Spark starts;
    `bind` then gives it the session, and from there on it runs in the main thread.
    """

    def __init__(self, jvm: object, class_dir: str) -> None:
        self._jvm = jvm
        settings = jvm.scala.tools.nsc.Settings()
        arguments = jvm.java.util.ArrayList()
        # -nowarn: Livy clients parse a statement's text (sparkmagic reads JSON lines), and
        # Scala 2.13's warnings (e.g. `df.collect` without parentheses) would be in it
        for argument in (
            "-usejavacp",
            "-nowarn",
            "-Yrepl-class-based",
            *("-Yrepl-outdir", class_dir),
        ):
            arguments.add(argument)
        ok = settings.processArguments(
            jvm.scala.jdk.javaapi.CollectionConverters.asScala(arguments).toList(), True
        )._1()
        if not ok:
            raise ScalaError("the Scala interpreter refused its settings")
        self._buffer = jvm.java.io.ByteArrayOutputStream()
        self._stream = jvm.java.io.PrintStream(self._buffer, True, "UTF-8")
        reporter = jvm.scala.tools.nsc.interpreter.shell.ReplReporterImpl(
            settings, jvm.java.io.PrintWriter(self._stream, True)
        )
        self._repl = jvm.scala.tools.nsc.interpreter.IMain(settings, reporter)
        if not self._repl.initializeCompiler():
            raise ScalaError("the Scala compiler did not start: " + self._take_output())
        self._console = getattr(jvm.scala, "Console$").__getattr__("MODULE$")
        self._thread = None
        self._prepare_thread()
        self._repl.quietRun("()")
        self._take_output()

    def bind(self, spark: object) -> "ScalaInterpreter":
        """Bind `spark`, `sc` and the usual imports to the Python side's session (main
        thread: from here on every statement runs on it)."""
        # the interpreter finds the session the Python side made (one SparkSession for both)
        self._jvm.org.apache.spark.sql.SparkSession.setDefaultSession(spark._jsparkSession)
        self._prepare_thread()
        if _result_name(self._repl.quietRun(PRELUDE)) != "Success":
            raise ScalaError("binding spark and sc failed: " + self._take_output())
        self._take_output()
        return self

    def run(self, statement: Statement) -> dict:
        """Interpret one statement; its printed output and the REPL's echo are the text."""
        self._prepare_thread()
        try:
            result = _result_name(self._repl.interpret(statement.code))
        finally:
            self._thread = None
        text = self._take_output()
        if result == "Success":
            return ok_output(statement.id, {"text/plain": text.rstrip("\n")})
        if result == "Incomplete":
            return error_output(statement.id, "Error", "incomplete statement", [text])
        name, value, traceback = parse_error(text)
        return error_output(statement.id, name, value, traceback)

    def interrupt(self) -> None:
        """Interrupt the JVM thread running a statement (from another thread): a blocking
        call such as Thread.sleep ends with InterruptedException; Spark jobs are cancelled
        through their job group by the caller."""
        thread = self._thread
        if thread is not None:
            thread.interrupt()

    def _prepare_thread(self) -> None:
        """Per-thread JVM state for the statement about to run on this (pinned) thread."""
        jvm = self._jvm
        jvm.java.lang.Thread.interrupted()  # a cancel that came too late must not carry over
        self._console.setOutDirect(self._stream)
        self._console.setErrDirect(self._stream)
        self._repl.setContextClassLoader()  # Spark finds statements' classes through it
        self._thread = jvm.java.lang.Thread.currentThread()

    def _take_output(self) -> str:
        """What the statement printed (and the REPL echoed), emptying the buffer."""
        self._stream.flush()
        text = self._buffer.toString("UTF-8")
        self._buffer.reset()
        return text


def _result_name(result: object) -> str:
    """`Success`, `Error` or `Incomplete` (the Scala case objects print their names)."""
    return str(result.toString())


def parse_error(text: str) -> tuple[str, str, list[str]]:
    """(ename, evalue, traceback lines) of a failed statement's output.

    A runtime error starts with the exception (`java.lang.ArithmeticException: / by zero`)
    and its trimmed stack; a compile error has `error: ...` lines under a caret. The
    name is the exception's class (`ArithmeticException`) or `Error`.
    """
    lines = text.rstrip("\n").splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = EXCEPTION_LINE.fullmatch(line.strip())
        if match:
            # evalue keeps the class, as Livy's does: clients show evalue, not ename
            return match["name"].rsplit(".", 1)[-1], line.strip(), lines[index + 1 :]
    compile_error = COMPILE_ERROR.search(text)
    if compile_error:
        return "Error", compile_error["value"].strip(), lines
    first = next((line.strip() for line in lines if line.strip()), "unknown error")
    return "Error", first, lines


def error_output(count: int, name: str, value: str, traceback: list[str]) -> dict:
    """A Livy error output for a Scala statement."""
    return {
        "status": "error",
        "execution_count": count,
        "ename": name,
        "evalue": value,
        "traceback": traceback,
    }
