"""The daily core time of Spark clusters, on a real hub with real clusters: admins set it,
`me` shows it, a cluster is terminated when its running cores have spent it (at a
deadline that moves with the quota and survives a service restart), and then no new
cluster, Livy session or statement is accepted until it renews."""

from datetime import datetime, timedelta

from labdeck.quota.usage import human_duration
from spark_support import create_cluster, livy_session, run_statement, wait_state


def spark_of(labdeck, token) -> dict:
    return labdeck.service("GET", "/me", token=token).json()["resources"]["spark"]


def cluster_entry(labdeck, user: str) -> dict:
    (entry,) = labdeck.service("GET", f"/ledger?user={user}&kind=cluster").json()
    return entry


def running_with_deadline(labdeck, token, name: str) -> dict:
    """A new cluster once it runs: its deadline is known from the moment it does."""
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, name)["id"])
    assert cluster["state"] == "RUNNING" and cluster["deadline"], cluster
    return cluster


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_admins_set_the_daily_core_time_and_bad_values_change_nothing(labdeck, new_user):
    name, token = new_user("budgeted")
    spark = spark_of(labdeck, token)
    assert spark["limits"]["daily_core_seconds"] == 4 * 4 * 3600  # 4 cores for 4 h
    assert spark["in_use"]["daily_core_seconds"] == 0
    assert spark["left"]["daily_core_seconds"] == 4 * 4 * 3600
    assert spark["deadline"] is None  # nothing runs
    before = labdeck.service("GET", f"/admin/users/{name}/quota").json()
    for bad in (-1, "2h", True, 1.5, 2**60, {"hours": 2}):
        response = labdeck.service(
            "PUT", f"/admin/users/{name}/quota", json={"spark": {"daily_core_seconds": bad}}
        )
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_quota"
        assert "daily_core_seconds" in response.json()["message"]
    assert labdeck.service("GET", f"/admin/users/{name}/quota").json() == before
    _, other = new_user("notadmin")
    refused = labdeck.service(
        "PUT",
        f"/admin/users/{name}/quota",
        token=other,
        json={"spark": {"daily_core_seconds": 10**9}},
    )
    assert refused.status_code == 403
    assert (
        labdeck.set_quota(name, {"spark": {"daily_core_seconds": 7200}})["spark"][
            "daily_core_seconds"
        ]
        == 7200
    )
    assert spark_of(labdeck, token)["left"]["daily_core_seconds"] == 7200
    # zero: no core time at all, refused before anything starts
    labdeck.set_quota(name, {"spark": {"daily_core_seconds": 0}})
    response = labdeck.service("POST", "/clusters", token=token, json={"name": "none"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "quota_exceeded",
        "message": "You have no Spark core time. Ask an admin for a quota.",
    }
    assert labdeck.service("GET", "/clusters", token=token).json() == []


def test_a_cluster_is_terminated_when_its_core_time_is_spent(labdeck, new_user):
    name, token = new_user("spender")
    cluster = running_with_deadline(labdeck, token, "thrifty")
    started = at(cluster["started"])
    # nothing used before: one core spends the default 16 core-hours (4 cores for 4 h) in 16 h
    assert abs(at(cluster["deadline"]) - started - timedelta(hours=16)) < timedelta(seconds=0.01)
    assert cluster["deadline_reason"] == "daily_budget"
    assert cluster["warn_before_seconds"] == [900, 300]
    listed = labdeck.service("GET", "/clusters", token=token).json()
    assert listed[0]["deadline"] == cluster["deadline"]
    assert cluster_entry(labdeck, name)["deadline"] == cluster["deadline"]

    session = livy_session(labdeck, token, cluster["id"])
    statement = run_statement(labdeck, token, cluster["id"], session, "6 * 7")
    assert statement["output"]["data"]["text/plain"] == "42"

    # an admin leaves 10 more core-seconds: the deadline moves there at once
    used = spark_of(labdeck, token)["in_use"]["daily_core_seconds"]
    limit = used + 10
    labdeck.set_quota(name, {"spark": {"daily_core_seconds": limit}})
    moved = labdeck.service("GET", f"/clusters/{cluster['id']}", token=token).json()
    deadline = at(moved["deadline"])
    assert abs((deadline - started).total_seconds() - limit) < 0.01
    assert at(spark_of(labdeck, token)["deadline"]) == deadline

    ended = wait_state(labdeck, token, cluster["id"], ("TERMINATED",), timeout=60)
    spent = human_duration(limit)
    assert ended["state_reason"].startswith(
        f"Spark core time used up for today: {spent} of {spent}. It renews at "
    ), ended["state_reason"]
    entry = cluster_entry(labdeck, name)
    assert entry["end_reason"] == "daily_budget"
    # stopped at the deadline, give or take the time stopping a cluster takes
    assert deadline <= at(entry["ended"]) < deadline + timedelta(seconds=20)
    spark = spark_of(labdeck, token)
    assert spark["left"]["daily_core_seconds"] == 0 and spark["deadline"] is None

    # nothing more runs until it renews: no cluster, no Livy session, no statement
    response = labdeck.service("POST", "/clusters", token=token, json={"name": "more"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "quota_exceeded"
    assert body["message"].startswith("Spark core time used up for today")
    assert "It renews at" in body["message"]
    livy = f"/clusters/{cluster['id']}/livy/sessions"
    for path, payload in (
        (livy, {"kind": "pyspark"}),
        (f"{livy}/{session}/statements", {"code": "6 * 7"}),
    ):
        response = labdeck.service("POST", path, token=token, json=payload)
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "quota_exceeded"
    assert len(labdeck.service("GET", "/clusters", token=token).json()) == 1


def test_a_restarted_service_still_stops_clusters_at_their_deadline(labdeck, new_user):
    """The deadline's timer dies with the service; the new one computes it again from the
    ledger and stops the cluster there."""
    name, token = new_user("survivor")
    labdeck.set_quota(name, {"spark": {"daily_core_seconds": 45}})
    cluster = running_with_deadline(labdeck, token, "lasting")
    deadline = at(cluster["deadline"])
    assert abs(deadline - at(cluster["started"]) - timedelta(seconds=45)) < timedelta(seconds=0.01)
    labdeck.crash_service()
    ended = wait_state(labdeck, token, cluster["id"], ("TERMINATED",), timeout=90)
    assert ended["state_reason"].startswith("Spark core time used up for today: 45 s of 45 s.")
    entry = cluster_entry(labdeck, name)
    assert entry["end_reason"] == "daily_budget"
    assert at(entry["ended"]) >= deadline
