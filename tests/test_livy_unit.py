"""The Livy gateway's own rules, on a real database, where no driver needs to start."""

import asyncio
import json
import logging
import socket
import sys

import pytest
from labdeck.accounts import UserAccounts
from labdeck.service.clusters import ClusterManager, SparkClusters
from labdeck.service.db import Database
from labdeck.service.errors import Conflict
from labdeck.service.ledger import Ledger
from labdeck.service.livy import LivyGateway
from labdeck.service.models import LivySession, Resource
from labdeck.service.platform import Platform
from labdeck.service.resources import RUNNING
from labdeck.spark.local import LocalSparkBackend
from labdeck.supervisor import Supervisor

LOG = logging.getLogger("test-livy")


def test_a_cluster_takes_a_limited_number_of_livy_sessions(tmp_path):
    """The refusal comes before any driver starts, so the rows alone show it."""
    db = Database(f"sqlite:///{tmp_path / 'labdeck.sqlite'}")
    db.upgrade()
    platform = Platform(db, Ledger(db), Supervisor(LOG), UserAccounts(), LOG)
    settings = SparkClusters(max_sessions_per_cluster=2)
    clusters = ClusterManager(platform, settings, LocalSparkBackend, tmp_path, "/clusters")
    livy = LivyGateway(platform, clusters, tmp_path)
    cluster = Resource(
        id="c-1",
        kind="cluster",
        user="ann",
        name="one",
        state=RUNNING,
        progress={},
        spec={
            "name": "one",
            "workers": 1,
            "worker_cores": 1,
            "worker_memory": 2**29,
            "idle_timeout_seconds": 3600,
        },
        backend_state={},
    )
    with db.session() as s:
        s.add(cluster)
        for state in ("idle", "busy", "dead", "killed"):
            s.add(LivySession(cluster_id="c-1", user="ann", kind="pyspark", state=state))
    with pytest.raises(Conflict, match="already has 2 sessions"):
        livy.create(cluster, "ann", {"kind": "pyspark"})
    with db.session() as s:
        assert s.query(LivySession).count() == 4  # nothing was added


def test_a_driver_is_trusted_only_with_an_address_it_listens_on(tmp_path):
    """The ready file is written by the user's account: the service sends the driver's
    token (and relays statements) only to a port the driver's own process listens on."""
    listener = (
        "import signal, socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "print(s.getsockname()[1], flush=True); signal.pause()\n"
    )

    async def scenario():
        driver = await Supervisor(LOG).start(
            "driver", [sys.executable, "-c", listener], log_path=tmp_path / "driver.out"
        )
        await driver.wait_ready(lambda: _has_output(driver), 10)
        own_port = int(driver.tail()[0])
        try:
            results = {}
            with socket.socket() as elsewhere:
                elsewhere.bind(("127.0.0.1", 0))
                elsewhere.listen()
                for case, content in {
                    "own": {"port": own_port, "token": "t"},
                    "elsewhere": {"port": elsewhere.getsockname()[1], "token": "t"},
                    "not a number": {"port": "80", "token": "t"},
                    "not an object": [own_port],
                }.items():
                    ready = tmp_path / f"{case}.json"
                    ready.write_text(json.dumps(content))
                    results[case] = LivyGateway._driver_address(driver, ready)
            (tmp_path / "broken.json").write_text("{")
            results["broken"] = LivyGateway._driver_address(driver, tmp_path / "broken.json")
            return own_port, results
        finally:
            await Supervisor(LOG).terminate([driver], grace=1)

    own_port, results = asyncio.run(scenario())
    assert results.pop("own") == {"port": own_port, "token": "t"}
    assert all("error" in result for result in results.values()), results


async def _has_output(process) -> bool:
    return bool(process.tail())
