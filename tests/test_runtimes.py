"""`api/v1/runtimes`: what each runtime has left today, as the spawn page shows it, in a
real hub; and the spawn form made from it."""

import html
import re
from pathlib import Path

from labdeck.hub.spawn_form import ALL_USED_UP, gpu_line, plain_form, runtime_form, time_line
from labdeck.quota.profiles import RuntimeProfiles


def runtimes(labdeck, token, user: str | None = None) -> list[dict]:
    return labdeck.service_json("GET", "/runtimes", token=token, params={"user": user})


def by_name(found: list[dict]) -> dict[str, dict]:
    return {runtime["name"]: runtime for runtime in found}


def me(labdeck, token) -> dict:
    return labdeck.service_json("GET", "/me", token=token)


def hub_token(labdeck) -> str:
    """The token the hub side (the spawner) calls the service with: the service's own,
    which the hub hands the service process in its environment."""
    for pid in labdeck.processes():
        try:
            if b"labdeck.service" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(b"JUPYTERHUB_API_TOKEN="):
                return item.split(b"=", 1)[1].decode()
    raise AssertionError("no labdeck service process")


# -- the API, in a real hub -------------------------------------------------------------------
def test_time_left_and_the_gpus_follow_a_session(labdeck, new_user):
    name, token = new_user("runtimes")
    labdeck.set_quota(name, {"gpu": {"session_seconds": 3600, "daily_seconds": 7200}})
    before = by_name(runtimes(labdeck, token))
    # the shared hub runs with `--gpus 0,1`: the GPU runtime is offered, with its pool
    assert list(before) == ["cpu", "gpu"]
    gpu = before["gpu"]
    assert gpu["available"] is True and gpu["reason"] is None
    assert (gpu["remaining_seconds"], gpu["session_seconds"]) == (7200, 3600)
    assert gpu["gpus"]["total"] == 2 and gpu["gpus"]["queue"] == 0
    assert before["cpu"]["gpus"] is None
    in_use = gpu["gpus"]["in_use"]

    labdeck.start_server(name, profile="gpu")
    assert by_name(runtimes(labdeck, token))["gpu"]["gpus"]["in_use"] == in_use + 1
    labdeck.stop_server(name)

    usage = me(labdeck, token)["usage"]["gpu"]
    used = usage["used_seconds"]
    after = by_name(runtimes(labdeck, token))["gpu"]
    assert 0 < used < 600
    assert after["remaining_seconds"] == 7200 - used == usage["remaining_seconds"]
    assert after["session_seconds"] == 3600  # the session limit comes first
    assert after["resets_at"] == usage["resets_at"] is not None
    assert after["gpus"]["in_use"] == in_use

    # less left today than a session may last: a session gets what is left
    labdeck.set_quota(name, {"gpu": {"daily_seconds": used + 600}})
    short = by_name(runtimes(labdeck, token))["gpu"]
    assert short["available"] and short["remaining_seconds"] == short["session_seconds"] == 600

    # used up: not available, with the very sentence a start is refused with
    labdeck.set_quota(name, {"gpu": {"daily_seconds": used}})
    spent = by_name(runtimes(labdeck, token))["gpu"]
    assert spent["available"] is False
    assert (spent["remaining_seconds"], spent["session_seconds"]) == (0, 0)
    assert spent["reason"].startswith("GPU time used up for today:")
    assert "It renews at" in spent["reason"]
    refusal = labdeck.spawn(name, "gpu")
    assert refusal.status_code == 403
    assert refusal.json()["message"] == spent["reason"]
    # CPU time is a budget of its own
    assert by_name(runtimes(labdeck, token))["cpu"]["available"] is True


def test_who_may_ask_for_whose_runtimes(labdeck, new_user):
    spent, spent_token = new_user("rtspent")
    other, other_token = new_user("rtother")
    labdeck.set_quota(spent, {"cpu": {"daily_seconds": 0}})
    own = by_name(runtimes(labdeck, spent_token))["cpu"]
    assert own["available"] is False
    assert own["reason"] == "You have no CPU time. Ask an admin for a quota."
    assert by_name(runtimes(labdeck, other_token))["cpu"]["available"] is True

    # a user naming someone else still gets their own
    assert by_name(runtimes(labdeck, spent_token, user=other))["cpu"] == own
    # the hub (the spawn page) and admins ask for anyone's
    hub = hub_token(labdeck)
    for caller in ("admin", hub):
        assert by_name(runtimes(labdeck, caller, user=spent))["cpu"] == own
        assert by_name(runtimes(labdeck, caller, user=other))["cpu"]["available"] is True
    # an admin without ?user= gets their own
    assert by_name(runtimes(labdeck, "admin"))["cpu"]["available"] is True

    # the hub has no runtimes of its own; a name the hub does not know is not found
    response = labdeck.service("GET", "/runtimes", token=hub)
    assert response.status_code == 400 and response.json()["error"] == "user_required"
    response = labdeck.service("GET", "/runtimes", params={"user": "nobody-here"})
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_gpu_runtimes_are_hidden_on_a_machine_without_gpus(fresh):
    # no `--gpus` and no nvidia-smi here: the pool has no GPU
    labdeck = fresh()
    token = labdeck.create_user("nogpu")
    assert [r["name"] for r in runtimes(labdeck, token)] == ["cpu"]
    # `me` still lists every configured runtime
    assert [p["name"] for p in me(labdeck, token)["profiles"]] == ["cpu", "gpu"]


# -- the spawn form ------------------------------------------------------------------------------
def runtime(name: str, **fields) -> dict:
    return {
        "name": name,
        "display_name": name.upper(),
        "description": f"The {name} runtime.",
        "available": True,
        "reason": None,
        "remaining_seconds": 12000,
        "session_seconds": 12000,
        "resets_at": None,
        "gpus": None,
        **fields,
    }


def radio(form: str, name: str) -> str:
    return re.search(rf'<input type="radio" name="profile" value="{name}"[^>]*>', form).group(0)


def test_the_form_shows_time_left_and_disables_a_used_up_runtime():
    reason = "CPU time used up for today: 8 h of 8 h. It renews at 09:14 UTC."
    form = runtime_form(
        [
            runtime("cpu", available=False, reason=reason, remaining_seconds=0),
            runtime("gpu", session_seconds=4 * 3600, remaining_seconds=None),
            runtime("big", remaining_seconds=200 * 60, session_seconds=200 * 60),
        ],
        default="cpu",
    )
    # the default cannot start: the first that can is chosen
    assert "disabled" in radio(form, "cpu") and "checked" not in radio(form, "cpu")
    assert "checked" in radio(form, "gpu")
    assert html.escape(reason) in form
    assert "3 h 20 min left today · sessions up to 3 h 20 min" in form
    assert "No daily limit · sessions up to 4 h" in form
    assert 'data-testid="labdeck-runtime-left-big"' in form
    assert ALL_USED_UP not in form


def test_the_form_says_when_every_runtime_is_used_up():
    used_up = dict(available=False, reason="Used up.", remaining_seconds=0)
    form = runtime_form([runtime("cpu", **used_up), runtime("gpu", **used_up)], "cpu")
    assert ALL_USED_UP in form and "checked" not in form


def test_the_form_escapes_what_it_shows_and_says_how_many_gpus():
    pool = {"total": 2, "in_use": 1, "queue": 0}
    form = runtime_form([runtime("gpu", display_name="<b>GPU</b>", gpus=pool)], "gpu")
    assert "<b>GPU</b>" not in form and "&lt;b&gt;GPU&lt;/b&gt;" in form
    assert "2 GPUs on this machine, 1 in use, 0 waiting" in form
    assert gpu_line({"total": 1, "in_use": 1, "queue": 3}) == (
        "1 GPU on this machine, 1 in use, 3 waiting"
    )
    assert time_line(runtime("cpu", remaining_seconds=None, session_seconds=None)) == (
        "No daily limit · sessions without a time limit"
    )


def test_without_the_service_the_form_lists_the_runtimes():
    form = plain_form(RuntimeProfiles().all(), "cpu")
    assert "checked" in radio(form, "cpu") and "disabled" not in form
    assert "left today" not in form and "One GPU of its own" in form
