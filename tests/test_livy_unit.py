"""The Livy gateway's own rules, on a real database, where no driver needs to start."""

import logging

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
