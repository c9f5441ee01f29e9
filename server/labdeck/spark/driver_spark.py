"""The driver's classic (py4j) SparkSession: start, progress, cancel, stop.

Calls into the JVM from threads other than the main one (progress for the HTTP
threads, job-group cancels) all go through one worker thread. With pyspark's pinned
thread mode every Python thread gets its own py4j connection and JVM thread; a single
worker keeps that to one, however many HTTP requests come and go.
"""

import logging
import os
import subprocess
import sys
import types
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from .ui_auth import ui_conf

log = logging.getLogger("labdeck.spark.driver")

# Anything that would turn the builder into a Spark Connect client: sparkmagic's %%sql
# needs the classic DataFrame API (toJSON(use_unicode=...)).
CONNECT_ENV = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_API_MODE")
JVM_CALL_TIMEOUT = 5.0
# Where the driver finds its cluster's `spark.authenticate` secret.
SECRET_ENV = "_SPARK_AUTH_SECRET"  # noqa: S105 - a variable name, not a secret


class SparkSide:
    """A started SparkSession and the JVM calls the driver makes besides user code."""

    def __init__(self, spark: object) -> None:
        self.spark = spark
        self.sc = spark.sparkContext
        self.app_id = self.sc.applicationId
        self.ui_url = self.sc.uiWebUrl
        self._jvm_calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spark-status")
        self._tracker = None

    @classmethod
    def start(
        cls,
        master: str,
        app_name: str,
        confs: dict[str, str],
        jvm_ready: Callable[[object], None] | None = None,
    ) -> "SparkSide":
        """Start a classic SparkSession; raises whatever Spark raises if it cannot.
        jvm_ready(jvm) is called once the JVM answers, before Spark starts in it."""
        for name in CONNECT_ENV:
            os.environ.pop(name, None)
        # Python workers must run this interpreter: same version, same packages.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ["MPLBACKEND"] = "Agg"  # no display here; %matplot renders to PNG
        # Imported here: pyspark is slow to import and only this process needs it.
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession

        confs = {
            # nobody watches this process's console: the progress bar would clutter the log
            "spark.ui.showConsoleProgress": "false",
            # the UI binds a port of its own choosing (none another account took first)
            # and tells the master, whose proxy is the way to it
            "spark.ui.port": "0",
            **confs,
            "spark.api.mode": "classic",
        }
        # pyspark puts the settings it starts the JVM with on that JVM's command line,
        # which every local account can read: start it without the cluster's secret
        # (given in the environment), then hand the secret over through py4j.
        secret = os.environ.pop(SECRET_ENV, None)
        launch = SparkConf().setMaster(master).setAppName(app_name).setAll(confs.items())
        SparkContext._ensure_initialized(conf=launch)
        if jvm_ready is not None:
            jvm_ready(SparkContext._jvm)
        builder = SparkSession.builder.master(master).appName(app_name)
        for key, value in confs.items():
            builder = builder.config(key, value)
        if secret:
            builder = builder.config("spark.authenticate.secret", secret)
            # the application's UI, like the cluster's, refuses requests without its key
            for key, value in ui_conf(secret).items():
                builder = builder.config(key, value)
        spark = builder.getOrCreate()
        # sparkmagic's %%sql prints toJSON() rows and parses every output line as JSON;
        # pyspark 4 warns (on the captured stderr) that toJSON will change, which breaks it.
        warnings.filterwarnings(
            "ignore", message=r"The return type of DataFrame\.toJSON", category=UserWarning
        )
        return cls(spark)

    def user_namespace(self) -> dict:
        """A fresh `__main__` namespace holding `spark`, `sc` and `sqlContext`.

        It becomes sys.modules["__main__"] so that pickle finds classes users define,
        and cloudpickle ships their functions to executors by value.
        """
        module = types.ModuleType("__main__")
        module.__dict__.update(spark=self.spark, sc=self.sc, sqlContext=self._sql_context())
        sys.modules["__main__"] = module
        return module.__dict__

    def _sql_context(self) -> object:
        """Livy's `sqlContext`: a real SQLContext where pyspark still has one, else spark."""
        try:
            from pyspark.sql import SQLContext

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # deprecated, but sparkmagic users expect it
                return SQLContext(self.sc, self.spark)
        except Exception:  # any failure: `spark.sql` serves the same purpose
            return self.spark

    def set_job_group(self, group: str, description: str) -> None:
        """Tag the jobs of the next statement (main thread: job groups are per thread)."""
        self.sc.setJobGroup(group, description, interruptOnCancel=True)

    def progress(self, group: str) -> float | None:
        """Completed / total tasks over the jobs of a group; None if the JVM is slow."""
        future = self._jvm_calls.submit(self._progress, group)
        try:
            return future.result(timeout=JVM_CALL_TIMEOUT)
        except FutureTimeout:
            return None
        except Exception:
            log.warning("cannot read the progress of %s", group, exc_info=True)
            return None

    def _progress(self, group: str) -> float:
        """Livy's formula: tasks done over tasks, across every stage of the group's jobs."""
        if self._tracker is None:
            self._tracker = self.sc.statusTracker()
        done = total = 0
        for job_id in self._tracker.getJobIdsForGroup(group):
            job = self._tracker.getJobInfo(job_id)
            for stage_id in job.stageIds if job else ():
                stage = self._tracker.getStageInfo(stage_id)
                if stage:
                    done += stage.numCompletedTasks
                    total += stage.numTasks
        return done / total if total else 0.0

    def cancel_group(self, group: str) -> None:
        """Ask Spark to cancel the jobs of a group (they fail, which ends the statement)."""
        future = self._jvm_calls.submit(self.sc.cancelJobGroup, group)
        try:
            future.result(timeout=JVM_CALL_TIMEOUT)
        except Exception:
            log.warning("cannot cancel Spark job group %s", group, exc_info=True)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop Spark and make sure the JVM it started is gone."""
        self._jvm_calls.shutdown(wait=False, cancel_futures=True)
        try:
            self.spark.stop()
        except Exception:
            log.warning("spark.stop() failed", exc_info=True)
        from pyspark import SparkContext

        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        try:
            gateway.shutdown()
        except Exception:
            log.debug("py4j gateway shutdown failed", exc_info=True)
        if proc is not None:
            stop_jvm(proc, timeout)

    @staticmethod
    def stop_leftover_jvm(timeout: float = 15.0) -> None:
        """End the JVM pyspark may have started before a start failed."""
        from pyspark import SparkContext

        proc = getattr(SparkContext._gateway, "proc", None)
        if proc is not None:
            stop_jvm(proc, timeout)


def stop_jvm(proc: subprocess.Popen, timeout: float) -> None:
    """End the py4j JVM: it exits when its stdin closes; killed if it does not in time."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("the Spark JVM did not exit in %.0f s; killing it", timeout)
        proc.kill()
        proc.wait()
