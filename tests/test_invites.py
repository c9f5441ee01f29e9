"""New accounts are not claimed by whoever logs in first: an admin gives each user a
one-time invite link (or an initial password), against a real hub, through its forms."""

import hashlib
import json
import stat
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import requests
from labdeck.hub.auth import has_password
from labdeck.hub.invites import KEEP_SECONDS, InviteInvalid, InviteStore
from labdeck_process import LABDECK, wait_for
from login_support import (
    choose_password,
    hidden_fields,
    invite,
    log_in,
    logged_in,
    set_password,
    whoami,
)

REFUSAL = "This account has no password yet. Ask your admin for an invite link to set one."


def refused(page, why: str) -> bool:
    """An invite page that explains why its link does not work, and offers no form.

    (200 for a GET: the proxy logs the URL, token included, of every 4xx answer.)"""
    assert page.status_code in (200, 400, 410), page.status_code
    assert 'id="invite_problem"' in page.text and 'name="password"' not in page.text
    assert why in page.text, page.text
    return True


def passwords(labdeck):
    return labdeck.state_dir / "hub" / "passwords.dbm"


def invites_file(labdeck):
    return labdeck.state_dir / "hub" / "invites.json"


def test_a_first_login_does_not_claim_an_account(labdeck, new_user):
    name, _ = new_user("unclaimed")
    for attempt in ("first-comer-pw", "second-comer-pw"):
        response = log_in(labdeck, name, attempt)
        assert response.status_code == 403
        assert REFUSAL in response.text  # on the login page, where the person looks
        assert whoami(labdeck, response.session) is None
    assert not has_password(passwords(labdeck), name)


def test_an_invite_link_sets_the_password_once_and_logs_the_user_in(labdeck, new_user):
    name, _ = new_user("invited")
    link = invite(labdeck, name)
    assert link["name"] == name
    assert link["url"].startswith(f"{labdeck.url}/hub/invite?token=")
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(days=6.9) < expires - datetime.now(UTC) <= timedelta(days=7)

    session = requests.Session()
    page = session.get(link["url"])
    assert page.status_code == 200 and f"Welcome, {name}" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # mistakes are explained and leave the link usable
    differ = choose_password(link["url"], "a-good-password", "a-g00d-password", session)
    assert differ.status_code == 400 and "The two passwords differ" in differ.text
    short = choose_password(link["url"], "short", session=session)
    assert short.status_code == 400 and "at least 8 characters" in short.text
    assert not has_password(passwords(labdeck), name)

    done = choose_password(link["url"], "a-good-password", session=session)
    assert done.status_code == 302
    assert whoami(labdeck, session) == name  # logged in by the same step

    # the link is spent: its page says so and it sets nothing
    again = requests.Session()
    used = again.get(link["url"])
    assert refused(used, "This invite link has already been used.")
    replay = again.post(
        link["url"].split("?")[0],
        data={
            "token": hidden_fields(page.text)["token"],
            "_xsrf": again.cookies["_xsrf"],
            "password": "an-attackers-pw",
            "password_again": "an-attackers-pw",
        },
        allow_redirects=False,
    )
    assert replay.status_code == 410 and whoami(labdeck, again) is None
    assert log_in(labdeck, name, "an-attackers-pw").status_code == 403
    assert whoami(labdeck, logged_in(labdeck, name, "a-good-password")) == name

    # only a hash of the link is kept, privately (as passwords are); the link is in no log
    token = link["url"].split("token=")[1]
    stored = invites_file(labdeck)
    for path in stored.parent.iterdir():
        if path.name.startswith(("passwords", "invites")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert token not in stored.read_text()
    assert hashlib.sha256(token.encode()).hexdigest() in json.loads(stored.read_text())
    assert token not in labdeck.log()


def test_a_new_link_replaces_the_previous_one(labdeck, new_user):
    name, _ = new_user("reinvited")
    first, second = invite(labdeck, name), invite(labdeck, name)
    stale = choose_password(first["url"], "first-link-pw")
    assert refused(stale, "This invite link is not valid.")
    assert choose_password(second["url"], "second-link-pw").status_code == 302


def test_a_deleted_users_link_does_not_open_a_new_account_of_that_name(labdeck, new_user):
    name, _ = new_user("leaver")
    link = invite(labdeck, name)
    labdeck.hub_api("DELETE", f"/users/{name}")
    labdeck.hub_api("POST", f"/users/{name}")  # someone else, later, with the same name
    assert refused(choose_password(link["url"], "old-link-pw"), "not valid")
    assert not has_password(passwords(labdeck), name)


def test_an_initial_password_from_the_admin_logs_in_and_voids_the_invite(labdeck, new_user):
    name, _ = new_user("given")
    link = invite(labdeck, name)
    set_password(labdeck, name, "given-by-the-admin")
    assert whoami(labdeck, logged_in(labdeck, name, "given-by-the-admin")) == name
    assert refused(choose_password(link["url"], "taken-over-pw"), "not valid")
    assert log_in(labdeck, name, "taken-over-pw").status_code == 403


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code and body["message"], body
    return body


def test_only_admins_make_invites_and_passwords(labdeck, new_user):
    name, token = new_user("student")
    other, _ = new_user("classmate")
    before = invites_file(labdeck).read_bytes() if invites_file(labdeck).exists() else b""
    for who in (token, None, "forged-token"):
        for target in (name, other):
            _error(
                labdeck.request("POST", f"/hub/api/invites/{target}", token=who), 403, "forbidden"
            )
            response = labdeck.request(
                "PUT", f"/hub/api/passwords/{target}", token=who, json={"password": "mine-now-pw"}
            )
            _error(response, 403, "forbidden")
    assert not has_password(passwords(labdeck), other)
    after = invites_file(labdeck).read_bytes() if invites_file(labdeck).exists() else b""
    assert after == before


BAD_INVITE_BODIES = [
    "[1]",
    "{",
    '"text"',
    '{"expires_in_seconds": 0}',
    '{"expires_in_seconds": 604801}',
    '{"expires_in_seconds": ' + "9" * 5000 + "}",
    '{"expires_in_seconds": true}',
    '{"expires_in_seconds": 3600.5}',
    '{"lifetime": 60}',
    "[" * 100_000 + "]" * 100_000,
]
BAD_PASSWORD_BODIES = [
    "",
    "{}",
    '{"password": 12345678}',
    '{"password": "short"}',
    json.dumps({"password": "é" * 40}),  # 80 bytes: more than bcrypt reads
    '{"password": "long-enough", "user": "admin"}',
    "[" * 100_000 + "]" * 100_000,
]


def test_bad_requests_get_json_errors_and_change_nothing(labdeck, new_user):
    name, _ = new_user("careful")
    _error(labdeck.request("POST", "/hub/api/invites/nobody-here"), 404, "not_found")
    _error(
        labdeck.request("PUT", "/hub/api/passwords/nobody-here", json={"password": "long-enough"}),
        404,
        "not_found",
    )
    before = invites_file(labdeck).read_bytes() if invites_file(labdeck).exists() else b""
    headers = {"Content-Type": "application/json"}
    for body in BAD_INVITE_BODIES:
        response = labdeck.request("POST", f"/hub/api/invites/{name}", data=body, headers=headers)
        assert response.status_code == 400, (body[:40], response.text)
        assert response.json()["message"]
    for body in BAD_PASSWORD_BODIES:
        response = labdeck.request("PUT", f"/hub/api/passwords/{name}", data=body, headers=headers)
        assert response.status_code == 400, (body[:40], response.text)
        assert response.json()["message"]
    after = invites_file(labdeck).read_bytes() if invites_file(labdeck).exists() else b""
    assert after == before
    assert not has_password(passwords(labdeck), name)
    # a shorter link than the longest allowed is fine
    short = invite(labdeck, name, expires_in_seconds=600)
    assert datetime.fromisoformat(short["expires_at"]) - datetime.now(UTC) <= timedelta(minutes=10)


def test_invite_pages_for_links_that_do_not_work(labdeck):
    for query in ("", "?token=", "?token=made-up-token"):
        page = requests.get(f"{labdeck.url}/hub/invite{query}")
        assert refused(page, "This invite link is not valid.")
    # a password longer than bcrypt reads is a wrong password, not a server error
    assert log_in(labdeck, "admin", "é" * 40).status_code == 403


def test_labdeck_invite_adds_the_user_and_prints_a_link(labdeck):
    args = ["--port", str(labdeck.port), "--state-dir", str(labdeck.state_dir)]
    made = subprocess.run(
        [LABDECK, "invite", "cli-student", *args], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert "Added user 'cli-student'" in made.stderr and "works once" in made.stderr
    link = made.stdout.strip()
    assert link.startswith(f"{labdeck.url}/hub/invite?token=")
    assert choose_password(link, "from-the-cli-pw").status_code == 302

    # --password: an initial password read from stdin, never from the command line
    given = subprocess.run(
        [LABDECK, "invite", "cli-student", "--password", *args],
        input="typed-by-the-admin\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert given.returncode == 0, given.stderr
    assert log_in(labdeck, "cli-student", "typed-by-the-admin").status_code == 302

    nowhere = subprocess.run(
        [LABDECK, "invite", "cli-student", "--port", "9", "--state-dir", str(labdeck.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nowhere.returncode == 1 and "cannot reach labdeck" in nowhere.stderr


def test_an_expired_link_is_refused(fresh):
    lab = fresh(config="c.LabdeckAuthenticator.invite_lifetime_seconds = 2\n")
    lab.hub_api("POST", "/users/late")
    link = invite(lab, "late")
    expired = wait_for(
        lambda: "invite_problem" in (page := requests.get(link["url"])).text and page,
        30,
        0.2,
        "the link to expire",
    )
    assert refused(expired, "This invite link expired on")
    assert refused(choose_password(link["url"], "too-late-pw"), "expired")
    assert not has_password(passwords(lab), "late")
    # and nobody may ask for more than the configured lifetime
    response = lab.request("POST", "/hub/api/invites/late", json={"expires_in_seconds": 3})
    _error(response, 400, "invalid_request")


def test_a_pending_invite_survives_a_restart(fresh):
    lab = fresh()
    lab.hub_api("POST", "/users/patient")
    link = invite(lab, "patient")
    assert lab.stop() == 0
    lab = fresh(state_dir=lab.state_dir, port=lab.port)
    session = choose_password(link["url"], "after-restart-pw").session
    assert whoami(lab, session) == "patient"


def test_claiming_at_first_login_works_when_enabled(fresh):
    lab = fresh(config="c.LabdeckAuthenticator.claim_on_first_login = True\n")
    lab.hub_api("POST", "/users/claimer")
    too_short = log_in(lab, "claimer", "short")
    assert too_short.status_code == 403 and "at least 8 characters" in too_short.text
    assert whoami(lab, logged_in(lab, "claimer", "claimed-first")) == "claimer"
    assert log_in(lab, "claimer", "claimed-second").status_code == 403
    # only names an admin added: logging in creates no account
    assert log_in(lab, "stranger", "strangers-pw").status_code == 403
    assert lab.request("GET", "/hub/api/users/stranger").status_code == 404


def test_the_store_keeps_dead_links_a_month_to_explain_them_then_forgets(tmp_path):
    now = [1_000_000.0]
    store = InviteStore(tmp_path / "invites.json", clock=lambda: now[0])
    used, _ = store.create("ann", 3600)
    store.redeem(used)
    expired, _ = store.create("bob", 60)
    now[0] += 61
    with pytest.raises(InviteInvalid, match="already been used"):
        store.check(used)
    with pytest.raises(InviteInvalid, match="expired"):
        store.check(expired)
    now[0] += KEEP_SECONDS
    store.create("cy", 60)  # any write sweeps
    assert len(json.loads((tmp_path / "invites.json").read_text())) == 1
    with pytest.raises(InviteInvalid, match="not valid"):
        store.check(used)
