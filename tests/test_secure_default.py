"""On labdeck's defaults (as root): what one user's code can reach of another's and of labdeck's.

The shared `labdeck` runs with nothing configured about isolation; these tests go
through the paths the product offers a student: a notebook kernel and a terminal.
"""

import os
import pwd
import socket
import threading
from pathlib import Path

import pytest
from lab_support import run_in_kernel, run_in_terminal
from labdeck.hub.system_users import system_user_name
from labdeck_process import ACCOUNT_PREFIX, server_environment, wait_for


@pytest.fixture(scope="module")
def two_users(labdeck):
    """alice and bob with running labs; bob's home holds a file of his."""
    users = {}
    for prefix in ("alice", "bob"):
        name = f"{prefix}{os.getpid()}"
        users[prefix] = (name, labdeck.create_user(name))
        labdeck.start_server(name)
    bob, bob_token = users["bob"]
    response = labdeck.request(
        "PUT",
        f"/user/{bob}/api/contents/secret.txt",
        token=bob_token,
        json={"type": "file", "format": "text", "content": "bob only"},
    )
    assert response.status_code == 201
    yield users
    for name, _ in users.values():
        labdeck.stop_server(name)


def forbidden_paths(labdeck, bob: str) -> list[Path]:
    state = labdeck.state_dir
    return [
        state / "homes" / bob / "secret.txt",
        state / "admin-token",
        state / "admin-password",
        state / "hub" / "jupyterhub.sqlite",
        state / "hub" / "jupyterhub_cookie_secret",
        state / "hub" / "passwords.dbm",
        state / "service" / "labdeck.sqlite",
    ]


PROBE = """
import os
print(os.getuid())
for path in {paths!r}:
    try:
        open(path, "rb").read()
        print("read", path)
    except PermissionError:
        print("denied")
for folder in ({homes!r}, {state!r}):
    try:
        os.listdir(folder)
        print("listed", folder)
    except PermissionError:
        print("denied")
"""


def test_a_notebook_kernel_runs_as_its_user_and_reads_nothing_of_others(labdeck, two_users):
    (alice, token), (bob, _) = two_users["alice"], two_users["bob"]
    paths = [str(p) for p in forbidden_paths(labdeck, bob)]
    homes, state = str(labdeck.state_dir / "homes"), str(labdeck.state_dir)
    code = PROBE.format(paths=paths, homes=homes, state=state)
    lines = run_in_kernel(labdeck, alice, token, code).split()
    uid = pwd.getpwnam(system_user_name(ACCOUNT_PREFIX, alice)).pw_uid
    # users pass through the state dir to their home, and list or read nothing else
    assert lines == [str(uid)] + ["denied"] * (len(paths) + 2)


def test_a_terminal_runs_as_its_user_and_reads_nothing_of_others(labdeck, two_users):
    (alice, token), (bob, _) = two_users["alice"], two_users["bob"]
    paths = forbidden_paths(labdeck, bob)
    reads = "; ".join(f"cat {p} >/dev/null" for p in paths)
    output = run_in_terminal(labdeck, alice, token, f"id -un; {reads}; ls {paths[0].parent}")
    assert system_user_name(ACCOUNT_PREFIX, alice) in output
    assert output.count("Permission denied") == len(paths) + 1, output
    assert "bob only" not in output


def test_no_secret_is_on_any_command_line(labdeck, two_users):
    """Tokens travel in environments (readable by their owner only) and 0600 files."""
    secrets = {
        "admin token": labdeck.admin_token,
        "cookie secret": (labdeck.state_dir / "hub" / "jupyterhub_cookie_secret")
        .read_text()
        .strip(),
    }
    for prefix, (name, _) in two_users.items():
        secrets[f"{prefix}'s server token"] = server_environment(labdeck, name)[
            "JUPYTERHUB_API_TOKEN"
        ]
    for pid in labdeck.processes():
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue  # ended since
        for item in env:
            if item.startswith(b"JUPYTERHUB_API_TOKEN="):  # the service's, the proxy's...
                secrets[f"token of {pid}"] = item.split(b"=", 1)[1].decode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        found += [
            (what, entry.name) for what, value in secrets.items() if value.encode() in cmdline
        ]
    assert len(secrets) >= 5 and found == []


def test_a_lab_port_taken_by_another_program_gets_no_user_traffic(fresh):
    """A local program that binds the port chosen for a lab first is never routed to."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        answering = threading.Thread(target=answer_every_request, args=(squatter,), daemon=True)
        answering.start()
        labdeck = fresh(config=f"c.Spawner.port = {port}\n")
        labdeck.create_user("pat")
        response = labdeck.spawn("pat")
        if response.status_code == 202:  # slow spawn: the failure comes on the progress API
            wait_for(lambda: not labdeck.hub_api("GET", "/users/pat")["pending"], 60, 0.2)
            labdeck.wait_stopped("pat")
        else:
            assert response.status_code == 503, response.text
            assert "Another program took the port" in response.json()["message"]
        assert "answered, not from process" in labdeck.log()
        routes = labdeck.request("GET", "/hub/api/proxy").json()
        assert "/user/pat/" not in routes


def answer_every_request(listener: socket.socket) -> None:
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return  # closed: the test is over
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
