"""The labdeck server extension inside a real user server, behind the real hub."""

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def lab_user(labdeck):
    name = "labuser"
    token = labdeck.create_user(name)
    labdeck.start_server(name)
    yield name, token
    labdeck.stop_server(name)


def test_extension_forwards_to_the_service_as_the_owner(labdeck, lab_user):
    name, token = lab_user
    response = labdeck.request("GET", f"/user/{name}/labdeck/api/v1/me", token=token)
    assert response.status_code == 200
    assert response.json()["name"] == name


def test_extension_passes_service_errors_through(labdeck, lab_user):
    name, token = lab_user
    response = labdeck.request("GET", f"/user/{name}/labdeck/api/v1/nothing-here", token=token)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_someone_else_cannot_use_the_owners_extension(labdeck, lab_user, new_user):
    name, _ = lab_user
    _, other_token = new_user("other")
    response = labdeck.request("GET", f"/user/{name}/labdeck/api/v1/me", token=other_token)
    assert response.status_code in (403, 404)  # the hub does not even route it


def test_even_an_admin_cannot_act_as_the_owner(labdeck, lab_user):
    # admins may open a user's server, but labdeck calls made there must not borrow
    # the owner's identity
    name, _ = lab_user
    response = labdeck.request("GET", f"/user/{name}/labdeck/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_user_server_environment_and_home(labdeck, lab_user):
    name, _ = lab_user
    server = labdeck.hub_api("GET", f"/users/{name}")["servers"][""]
    environ = Path(f"/proc/{server['state']['pid']}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    assert env["LABDECK_SERVICE_URL"].endswith("/services/labdeck/")
    assert env["HOME"] == str(labdeck.state_dir.resolve() / "homes" / name)
    assert Path(env["HOME"]).is_dir()
