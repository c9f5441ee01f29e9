"""One-off time grants in a real hub: a refused user starts again today only, the
grant shows in `me` and in the usage report, and running sessions' deadlines move."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest


def me(labdeck, token: str) -> dict:
    return labdeck.service("GET", "/me", token=token).json()


def grants_path(name: str) -> str:
    return f"/admin/users/{name}/grants"


def grant(labdeck, name: str, expect: int = 201, **body) -> dict:
    return labdeck.service_json("POST", grants_path(name), expect=expect, json=body)


def today() -> datetime:
    # the default policy's budget days are calendar days in UTC
    return datetime.now(UTC)


def exhaust_cpu_budget(labdeck, name: str, token: str) -> int:
    """Start a lab, then make the CPU budget a few seconds more than it used: the lab is
    stopped for it. Returns the budget."""
    labdeck.start_server(name)
    started = datetime.fromisoformat(me(labdeck, token)["session"]["started"])
    budget = int(time.time() - started.timestamp()) + 3
    labdeck.set_quota(name, {"cpu": {"daily_seconds": budget}})
    labdeck.wait_stopped(name, timeout=30)
    return budget


def test_a_grant_lets_a_refused_user_start_again_today_only(labdeck, new_user):
    name, token = new_user("granted")
    admin = labdeck.service_json("GET", "/me")["name"]
    exhaust_cpu_budget(labdeck, name, token)
    refused = labdeck.spawn(name)
    assert refused.status_code == 403, refused.text
    assert "CPU time used up for today" in refused.json()["message"]

    # time for tomorrow does not help today
    tomorrow = (today() + timedelta(days=1)).date().isoformat()
    later = grant(labdeck, name, profile="cpu", seconds=3600, note="tomorrow's lab", date=tomorrow)
    assert later["date"] == tomorrow
    assert labdeck.spawn(name).status_code == 403
    assert me(labdeck, token)["usage"]["cpu"]["granted_seconds"] == 0

    note = "two more minutes to finish the exercise"
    given = grant(labdeck, name, profile="cpu", seconds=120, note=note)
    assert {k: v for k, v in given.items() if k not in ("id", "granted_at")} == {
        "user": name,
        "profile": "cpu",
        "seconds": 120,
        "date": today().date().isoformat(),
        "note": note,
        "granted_by": admin,
    }
    mine = me(labdeck, token)
    assert mine["usage"]["cpu"]["granted_seconds"] == 120
    assert mine["usage"]["cpu"]["remaining_seconds"] > 100
    assert mine["usage"]["gpu"]["granted_seconds"] == 0
    assert mine["grants_today"] == [
        {"profile": "cpu", "seconds": 120, "note": note, "granted_by": admin}
    ]
    # the quota itself is unchanged: the grant is for today only
    assert mine["quota"]["cpu"]["daily_seconds"] < 60
    listed = labdeck.service_json("GET", grants_path(name))
    assert [g["id"] for g in listed] == [given["id"], later["id"]]

    labdeck.start_server(name)
    session = me(labdeck, token)["session"]
    assert session["deadline_reason"] == "daily_budget"
    left = datetime.fromisoformat(session["deadline"]) - datetime.now(UTC)
    assert timedelta(seconds=60) < left <= timedelta(seconds=120)

    report = labdeck.service_json("GET", "/admin/usage")
    rows = [
        (r["kind"], r["profile"], r["granted_seconds"]) for r in report["rows"] if r["user"] == name
    ]
    assert rows == [("session", "cpu", 120)]
    assert report["totals"]["granted_by_profile"]["cpu"] >= 120
    (shown,) = [g for g in report["grants"] if g["user"] == name]
    assert shown == given  # tomorrow's is not in a period that ends now
    lines = csv.DictReader(io.StringIO(labdeck.service("GET", "/admin/usage?format=csv").text))
    (line,) = [row for row in lines if row["user"] == name]
    assert (line["kind"], line["granted_seconds"]) == ("session", "120")
    labdeck.stop_server(name)


def test_a_grant_shows_in_the_report_without_use(labdeck, new_user):
    name, _ = new_user("unused")
    given = grant(labdeck, name, profile="gpu", seconds=600, note="make-up session")
    report = labdeck.service_json("GET", "/admin/usage")
    rows = [r for r in report["rows"] if r["user"] == name]
    assert [
        (r["kind"], r["profile"], r["sessions"], r["seconds"], r["granted_seconds"]) for r in rows
    ] == [("session", "gpu", 0, 0, 600)]
    assert given in report["grants"]


def test_a_grant_and_its_revocation_move_a_running_sessions_deadline(labdeck, new_user):
    name, token = new_user("moved")
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 600}})
    labdeck.start_server(name)
    before = datetime.fromisoformat(me(labdeck, token)["session"]["deadline"])
    given = grant(labdeck, name, profile="cpu", seconds=1800, note="project deadline")
    after = datetime.fromisoformat(me(labdeck, token)["session"]["deadline"])
    assert (after - before).total_seconds() == pytest.approx(1800, abs=2)

    path = f"{grants_path(name)}/{given['id']}"
    assert labdeck.service("DELETE", path).status_code == 204
    again = datetime.fromisoformat(me(labdeck, token)["session"]["deadline"])
    assert abs((again - before).total_seconds()) <= 2
    assert me(labdeck, token)["grants_today"] == []
    assert labdeck.service("DELETE", path).status_code == 404
    labdeck.stop_server(name)


def _bad_bodies():
    good = {"profile": "cpu", "seconds": 600, "note": "why"}
    yesterday = (today() - timedelta(days=1)).date().isoformat()
    return [
        b"not json",
        b"[1]",
        {},
        {**good, "profile": "tpu"},
        {**good, "seconds": 30},
        {**good, "seconds": 86401},
        {**good, "seconds": "600"},
        {**good, "note": ""},
        {**good, "note": "x" * 501},
        {**good, "date": yesterday},
        {**good, "date": "next week"},
        {**good, "date": "2099-01-01"},
        {**good, "hours": 2},
    ]


@pytest.mark.parametrize("body", _bad_bodies())
def test_bad_grants_are_400_and_store_nothing(labdeck, new_user, body):
    name, token = new_user("badgrant")
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    response = labdeck.service("POST", grants_path(name), **kwargs)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"error", "message"} and error["message"].endswith(".")
    assert labdeck.service_json("GET", grants_path(name)) == []
    assert me(labdeck, token)["grants_today"] == []


def test_grants_for_unknown_users_and_ids_are_404(labdeck, new_user):
    name, _ = new_user("notfound")
    body = {"profile": "cpu", "seconds": 600, "note": "why"}
    assert labdeck.service("POST", grants_path("nobody-here"), json=body).status_code == 404
    assert labdeck.service_json("GET", grants_path("nobody-here")) == []
    other, _ = new_user("other")
    theirs = grant(labdeck, other, **body)
    for grant_id in (theirs["id"], "x", "99999999", "-1"):
        response = labdeck.service("DELETE", f"{grants_path(name)}/{grant_id}")
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert [g["id"] for g in labdeck.service_json("GET", grants_path(other))] == [theirs["id"]]


def test_only_admins_grant_time(labdeck, new_user):
    name, token = new_user("selfgrant")
    body = {"profile": "cpu", "seconds": 3600, "note": "I deserve it"}
    for method, path, kwargs in [
        ("POST", grants_path(name), {"json": body}),
        ("GET", grants_path(name), {}),
        ("DELETE", f"{grants_path(name)}/1", {}),
    ]:
        response = labdeck.service(method, path, token=token, **kwargs)
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "admin_only"
    assert labdeck.service_json("GET", grants_path(name)) == []
    assert me(labdeck, token)["usage"]["cpu"]["granted_seconds"] == 0
