"""What the job tests share: users' files, a script that waits (the `owner` fixture is
in conftest)."""

import os
import pwd
from pathlib import Path

from labdeck.hub.system_users import system_user_name
from labdeck_process import ACCOUNT_PREFIX

# a script that says what it did, then waits for the test to let it go on
GATED = """
import os, sys, time
import labdeck.metrics
print("starting", flush=True)
for step in range(3):
    print(f"epoch {step} loss={1 / (step + 1):.4f}", flush=True)
    labdeck.metrics.log(step=step, accuracy=step / 10)
while not os.path.exists("go"):
    time.sleep(0.05)
print("finished", flush=True)
"""


def submit(labdeck, token, **body) -> dict:
    return labdeck.service_json("POST", "/jobs", token, 201, json=body)


def job(labdeck, token, job_id) -> dict:
    return labdeck.service_json("GET", f"/jobs/{job_id}", token)


def home(labdeck, name) -> Path:
    return labdeck.state_dir / "homes" / name


def account(name) -> pwd.struct_passwd:
    return pwd.getpwnam(system_user_name(ACCOUNT_PREFIX, name))


def write_file(labdeck, name, relative, text) -> Path:
    """A file of the user's own in their home (as they would save it)."""
    path = home(labdeck, name) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    entry = account(name)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return path
