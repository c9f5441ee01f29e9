"""The spawn page's runtime form: each runtime with its description, the time it has
left today and the session length it would grant; a runtime with no time left is
disabled with the reason a start would be refused with (when it renews).

Pure functions of what the service's `api/v1/runtimes` answered; without an answer the
plain list of the configured runtimes is shown, so the form never fails.
"""

import html

from ..quota.profiles import Profile
from ..quota.usage import human_duration

CHOOSE = "<p>Choose a runtime for this session.</p>"
ALL_USED_UP = "Your time on every runtime is used up for today. Each one below says when it renews."
NONE_HERE = "No runtime can start on this machine (it has no GPU). Tell an admin."


def _item(name: str, title: str, lines: list[tuple[str, str]], checked: bool, disabled: bool):
    """One radio with its title and lines of (data-testid, text), all escaped."""
    state = (" checked" if checked else "") + (" disabled" if disabled else "")
    muted = " text-muted" if disabled else ""
    body = "".join(
        '<br><span class="text-muted"'
        + (f' data-testid="{html.escape(testid)}"' if testid else "")
        + f">{html.escape(text)}</span>"
        for testid, text in lines
        if text
    )
    return (
        f'<label class="labdeck-profile{muted}" style="display:block;margin:0.5em 0" '
        f'data-testid="labdeck-runtime-{html.escape(name)}">'
        f'<input type="radio" name="profile" value="{html.escape(name)}"{state}> '
        f"<strong>{html.escape(title)}</strong>{body}</label>"
    )


def plain_form(profiles: list[Profile], default: str) -> str:
    """The configured runtimes with their descriptions (the service did not answer)."""
    return CHOOSE + "".join(
        _item(p.name, p.display_name, [("", p.description)], p.name == default, False)
        for p in profiles
    )


def time_line(runtime: dict) -> str:
    """'3 h 20 min left today · sessions up to 3 h 20 min', or why it cannot start."""
    if not runtime["available"]:
        return runtime.get("reason") or "Not available now."
    left, length = runtime.get("remaining_seconds"), runtime.get("session_seconds")
    today = "No daily limit" if left is None else f"{human_duration(left)} left today"
    session = (
        "sessions without a time limit"
        if length is None
        else f"sessions up to {human_duration(length)}"
    )
    return f"{today} · {session}"


def gpu_line(gpus: dict | None) -> str:
    """'2 GPUs on this machine, 1 in use, 0 waiting'."""
    if not gpus:
        return ""
    total = gpus.get("total", 0)
    return (
        f"{total} GPU{'' if total == 1 else 's'} on this machine, "
        f"{gpus.get('in_use', 0)} in use, {gpus.get('queue', 0)} waiting"
    )


def runtime_form(runtimes: list[dict], default: str) -> str:
    """The runtimes the service offers, each with its time; the default is checked when
    it can start, else the first that can."""
    available = [r["name"] for r in runtimes if r["available"]]
    checked = default if default in available else (available[0] if available else None)
    items = [
        _item(
            r["name"],
            r["display_name"],
            [
                ("", r.get("description", "")),
                (f"labdeck-runtime-left-{r['name']}", time_line(r)),
                (f"labdeck-runtime-gpus-{r['name']}", gpu_line(r.get("gpus"))),
            ],
            r["name"] == checked,
            not r["available"],
        )
        for r in runtimes
    ]
    if not runtimes:
        return _alert("labdeck-no-runtimes", NONE_HERE)
    top = _alert("labdeck-all-used-up", ALL_USED_UP) if not available else ""
    return top + CHOOSE + "".join(items)


def _alert(testid: str, text: str) -> str:
    return (
        f'<div class="alert alert-warning" role="alert" data-testid="{testid}">'
        f"{html.escape(text)}</div>"
    )
