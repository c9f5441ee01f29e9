"""Persistent homes and storage quotas through the real contents API."""

import re

import pytest
from labdeck_process import wait_for


def contents(labdeck, name, token, method, path, **kwargs):
    return labdeck.request(method, f"/user/{name}/api/contents/{path}", token=token, **kwargs)


def save(labdeck, name, token, path, text="hello"):
    model = {"type": "file", "format": "text", "content": text}
    return contents(labdeck, name, token, "PUT", path, json=model)


@pytest.fixture
def lab(labdeck, new_user):
    name, token = new_user("store")
    labdeck.start_server(name)
    yield name, token
    labdeck.stop_server(name)


def storage(labdeck, token) -> dict:
    return labdeck.service("GET", "/me", token=token).json()["storage"]


def test_files_survive_stop_and_start(labdeck, lab):
    name, token = lab
    assert save(labdeck, name, token, "notes.txt", "persistent").status_code == 201
    labdeck.stop_server(name)
    labdeck.start_server(name)
    body = contents(labdeck, name, token, "GET", "notes.txt").json()
    assert body["content"] == "persistent"


def test_storage_is_measured_and_reported(labdeck, lab):
    name, token = lab
    assert save(labdeck, name, token, "data.csv", "x" * 5000).status_code == 201
    wait_for(lambda: storage(labdeck, token)["used_bytes"] >= 5000, 30, message="the measurement")
    assert storage(labdeck, token)["limit_bytes"] == 15 * 10**9


def test_over_the_limit_saves_are_refused_but_deletes_work(labdeck, lab):
    name, token = lab
    labdeck.set_quota(name, {"storage_bytes": 10_000})
    assert save(labdeck, name, token, "big.bin", "x" * 12_000).status_code == 201
    wait_for(lambda: storage(labdeck, token)["used_bytes"] >= 12_000, 30, message="measurement")

    def refused():
        response = save(labdeck, name, token, "more.txt", "tiny")
        return response.json() if response.status_code == 403 else None

    message = wait_for(refused, 30, 0.5, "saves to be refused")["message"]
    assert "storage is full" in message
    assert re.search(r"1\d\.\d KB of 10\.0 KB used", message), message
    assert "Delete files" in message
    assert save(labdeck, name, token, "refused.txt").status_code == 403
    assert contents(labdeck, name, token, "GET", "refused.txt").status_code == 404  # unchanged

    assert contents(labdeck, name, token, "DELETE", "big.bin").status_code == 204
    wait_for(
        lambda: save(labdeck, name, token, "after.txt", "tiny").status_code in (200, 201),
        30,
        0.5,
        "saves to work again",
    )


def test_folder_copies_and_checkpoints_count_against_the_limit(labdeck, lab):
    name, token = lab
    labdeck.set_quota(name, {"storage_bytes": 10_000})
    assert contents(labdeck, name, token, "PUT", "data", json={"type": "directory"}).ok
    assert save(labdeck, name, token, "data/big.txt", "x" * 6000).status_code == 201
    wait_for(lambda: storage(labdeck, token)["used_bytes"] >= 6000, 30, message="measurement")

    def copy_refused():
        response = contents(labdeck, name, token, "POST", "", json={"copy_from": "data"})
        if response.status_code == 201:
            # made before the lab had the new figures: undo it, and try again
            copied = response.json()["path"]
            contents(labdeck, name, token, "DELETE", f"{copied}/big.txt")
            contents(labdeck, name, token, "DELETE", copied)
        return response.json() if response.status_code == 403 else None

    message = wait_for(copy_refused, 30, 0.5, "the folder copy to be refused")["message"]
    assert "storage is full" in message
    listing = contents(labdeck, name, token, "GET", "").json()["content"]
    assert [item["name"] for item in listing] == ["data"]  # nothing was copied
    checkpoint = contents(labdeck, name, token, "POST", "data/big.txt/checkpoints")
    assert checkpoint.status_code == 403
    assert "storage is full" in checkpoint.json()["message"]


def test_a_user_over_the_limit_can_still_start_a_session(labdeck, new_user):
    name, token = new_user("full")
    home = labdeck.state_dir / "homes" / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "huge.bin").write_bytes(b"x" * 3000)
    labdeck.set_quota(name, {"storage_bytes": 1000})
    labdeck.start_server(name)
    assert storage(labdeck, token)["used_bytes"] >= 3000
    labdeck.stop_server(name)
