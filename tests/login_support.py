"""Users get a password the way an admin gives one, and log in the way a browser does:
through the hub's forms, with their cookies and XSRF tokens."""

import re
from html import unescape

import requests


def set_password(labdeck, name: str, password: str) -> None:
    """The admin sets name's initial password (hub API)."""
    response = labdeck.request("PUT", f"/hub/api/passwords/{name}", json={"password": password})
    assert response.status_code == 204, response.text


def invite(labdeck, name: str, **body) -> dict:
    """The admin makes an invite link for name: {"name", "url", "expires_at"}."""
    response = labdeck.request("POST", f"/hub/api/invites/{name}", json=body or None)
    assert response.status_code == 201, response.text
    return response.json()


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a form page (_xsrf, token), as a browser would post them."""
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return {name: unescape(value) for name, value in fields}


def log_in(labdeck, name: str, password: str, session=None) -> requests.Response:
    """Post the hub's login form; the response (302 when logged in) keeps its session."""
    session = session or requests.Session()
    form = session.get(labdeck.url + "/hub/login")
    response = session.post(
        labdeck.url + "/hub/login",
        data={**hidden_fields(form.text), "username": name, "password": password},
        allow_redirects=False,
    )
    response.session = session
    return response


def logged_in(labdeck, name: str, password: str) -> requests.Session:
    """A browser-like session of the user, logged in through the hub's login form."""
    response = log_in(labdeck, name, password)
    assert response.status_code == 302, response.text
    return response.session


def choose_password(
    url: str, password: str, again: str | None = None, session=None
) -> requests.Response:
    """Open an invite link and post its form; the response keeps its session."""
    session = session or requests.Session()
    page = session.get(url)
    fields = hidden_fields(page.text)
    if "token" not in fields:  # the link no longer works: its page says why
        page.session = session
        return page
    response = session.post(
        url.split("?")[0],
        data={
            **fields,
            "password": password,
            "password_again": password if again is None else again,
        },
        allow_redirects=False,
    )
    response.session = session
    return response


def whoami(labdeck, session: requests.Session) -> str | None:
    """Who the session's hub cookie logs in as (None: nobody)."""
    response = session.get(labdeck.url + "/hub/api/user", allow_redirects=False)
    return response.json()["name"] if response.status_code == 200 else None
