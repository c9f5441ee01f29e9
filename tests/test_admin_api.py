"""Admin endpoints: per-user quotas and the usage report."""

import csv
import io

import pytest
from jobs_support import write_file
from labdeck_process import wait_for

ADMIN_PATHS = ["/admin/usage", "/admin/usage?format=csv", "/admin/users/admin/quota"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_non_admins_are_refused(labdeck, new_user, path):
    _, token = new_user("student")
    response = labdeck.service("GET", path, token=token)
    assert response.status_code == 403
    assert response.json() == {"error": "admin_only", "message": "Only hub admins can do this."}


def test_non_admins_cannot_change_quotas(labdeck, new_user):
    name, token = new_user("greedy")
    before = labdeck.service("GET", f"/admin/users/{name}/quota").json()
    response = labdeck.service(
        "PUT", f"/admin/users/{name}/quota", token=token, json={"gpu": {"daily_seconds": 10**6}}
    )
    assert response.status_code == 403
    assert labdeck.service("GET", f"/admin/users/{name}/quota").json() == before


def test_partial_quota_updates(labdeck, new_user):
    name, _ = new_user("quota")
    default = labdeck.service("GET", f"/admin/users/{name}/quota").json()
    updated = labdeck.set_quota(name, {"gpu": {"daily_seconds": 7200}})
    assert updated["gpu"] == {
        "session_seconds": default["gpu"]["session_seconds"],
        "daily_seconds": 7200,
    }
    assert updated["cpu"] == default["cpu"]
    updated = labdeck.set_quota(name, {"storage_bytes": 10**9})
    assert updated["gpu"]["daily_seconds"] == 7200 and updated["storage_bytes"] == 10**9
    # null puts a field back to the group/default value
    assert (
        labdeck.set_quota(name, {"gpu": {"daily_seconds": None}, "storage_bytes": None}) == default
    )


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"gpu": {"daily_seconds": -5}}',
        b'{"gpu": {"daily_seconds": "2h"}}',
        b'{"gpu": {"hours": 2}}',
        b'{"tpu": {"daily_seconds": 5}}',
        b'{"storage_bytes": 1.5}',
        b'{"cpu": {"daily_seconds": 5}, "gpu": 3}',
    ],
)
def test_bad_quota_bodies_are_400_and_change_nothing(labdeck, new_user, body):
    name, _ = new_user("badquota")
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 100}})
    before = labdeck.service("GET", f"/admin/users/{name}/quota").json()
    response = labdeck.service("PUT", f"/admin/users/{name}/quota", data=body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"error", "message"} and error["message"].endswith(".")
    assert labdeck.service("GET", f"/admin/users/{name}/quota").json() == before


def test_quota_of_an_unknown_user_is_404(labdeck):
    response = labdeck.service("PUT", "/admin/users/nobody-here/quota", json={"storage_bytes": 1})
    assert response.status_code == 404


@pytest.fixture(scope="module")
def used_class(labdeck):
    """Two users of group 'report-class' and one outsider, each with a finished session."""
    names = ["rep1", "rep2", "outsider"]
    for name in names:
        labdeck.create_user(name)
    labdeck.hub_api("POST", "/groups/report-class", json={"users": names[:2]})
    for name in names:
        labdeck.start_server(name)
        labdeck.stop_server(name)
    return names


def test_usage_report_per_user_profile_and_group(labdeck, used_class):
    report = labdeck.service("GET", "/admin/usage").json()
    rows = {row["user"]: row for row in report["rows"]}
    for name in used_class:
        assert rows[name]["profile"] == "cpu"
        assert rows[name]["sessions"] == 1
        assert rows[name]["seconds"] >= 1
    assert rows["rep1"]["groups"] == ["report-class"]
    totals = report["totals"]
    assert totals["by_group"]["report-class"] == rows["rep1"]["seconds"] + rows["rep2"]["seconds"]
    assert totals["by_profile"]["cpu"] == sum(
        r["seconds"] for r in report["rows"] if r["profile"] == "cpu"
    )

    only_class = labdeck.service("GET", "/admin/usage?group=report-class").json()
    assert {row["user"] for row in only_class["rows"]} == {"rep1", "rep2"}


def test_usage_report_as_csv(labdeck, used_class):
    response = labdeck.service("GET", "/admin/usage?format=csv&group=report-class")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["user"] for row in rows} == {"rep1", "rep2"}
    assert set(rows[0]) == {
        "user",
        "groups",
        "profile",
        "kind",
        "sessions",
        "seconds",
        "gpu_seconds",
        "core_seconds",
        "granted_seconds",
    }


def test_a_job_and_a_session_on_one_profile_are_separate_rows(labdeck, new_user):
    name, token = new_user("mixed")
    labdeck.start_server(name, profile="cpu")
    labdeck.stop_server(name)
    write_file(labdeck, name, "train/short.py", "import time\ntime.sleep(1.2)\n")
    response = labdeck.service(
        "POST", "/jobs", token=token, json={"script": "train/short.py", "profile": "cpu"}
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]

    def ended():
        job = labdeck.service("GET", f"/jobs/{job_id}", token=token).json()
        return job if job["state"] in ("COMPLETED", "FAILED", "STOPPED") else None

    assert wait_for(ended, 30, 0.2, f"job {job_id} ends")["state"] == "COMPLETED"

    report = labdeck.service("GET", "/admin/usage").json()
    mine = [row for row in report["rows"] if row["user"] == name]
    assert [(r["kind"], r["profile"], r["sessions"]) for r in mine] == [
        ("job", "cpu", 1),
        ("session", "cpu", 1),
    ]
    job_row, lab_row = mine
    assert job_row["seconds"] >= 1 and lab_row["seconds"] >= 1
    by_kind = report["totals"]["by_kind"]
    for kind in ("job", "session"):
        assert by_kind[kind] == {
            field: sum(r[field] for r in report["rows"] if r["kind"] == kind)
            for field in ("seconds", "gpu_seconds", "core_seconds")
        }
    # by_profile still adds every kind up
    assert report["totals"]["by_profile"]["cpu"] == sum(
        r["seconds"] for r in report["rows"] if r["profile"] == "cpu"
    )

    response = labdeck.service("GET", "/admin/usage?format=csv")
    lines = [row for row in csv.DictReader(io.StringIO(response.text)) if row["user"] == name]
    assert [(row["kind"], row["profile"], row["sessions"]) for row in lines] == [
        ("job", "cpu", "1"),
        ("session", "cpu", "1"),
    ]
    assert response.text.splitlines()[0].startswith("user,groups,profile,kind,sessions,")


def test_usage_report_period_excludes_other_times(labdeck, used_class):
    old = labdeck.service("GET", "/admin/usage?since=2020-01-01&until=2020-01-02").json()
    assert old["rows"] == []


@pytest.mark.parametrize(
    "query,code",
    [
        ("since=yesterday", "invalid_time"),
        ("until=2026-13-01", "invalid_time"),
        ("since=2026-02-01&until=2026-01-01", "invalid_period"),
        ("format=xml", "invalid_format"),
    ],
)
def test_bad_report_queries_are_400(labdeck, query, code):
    response = labdeck.service("GET", f"/admin/usage?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == code


def test_report_for_an_unknown_group_is_404(labdeck):
    assert labdeck.service("GET", "/admin/usage?group=no-such-group").status_code == 404
