"""Run code in a user's real lab the way JupyterLab does: a kernel, a terminal, over websockets."""

import json
import uuid

import websocket

TIMEOUT = 60


def _connect(labdeck, path: str, token: str) -> websocket.WebSocket:
    return websocket.create_connection(
        f"ws://127.0.0.1:{labdeck.port}{path}",
        header=[f"Authorization: token {token}"],
        timeout=TIMEOUT,
    )


def run_in_kernel(labdeck, name: str, token: str, code: str) -> str:
    """Start a python3 kernel in the user's lab, run code, return its stdout; the kernel
    is shut down afterwards."""
    base = f"/user/{name}/api/kernels"
    response = labdeck.request("POST", base, token=token, json={"name": "python3"})
    assert response.status_code == 201, response.text
    kernel = response.json()["id"]
    try:
        # a client session of its own, as JupyterLab opens the channels
        ws = _connect(labdeck, f"{base}/{kernel}/channels?session_id={uuid.uuid4().hex}", token)
        try:
            return _execute(ws, code)
        finally:
            ws.close()
    finally:
        labdeck.request("DELETE", f"{base}/{kernel}", token=token)


def _execute(ws, code: str) -> str:
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "allow_stdin": False},
                "channel": "shell",
            }
        )
    )
    output = []
    while True:
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            output.append(content["text"])
        elif kind == "error":
            raise AssertionError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(output)


def run_in_terminal(labdeck, name: str, token: str, command: str) -> str:
    """Open a terminal in the user's lab, type command, return what it printed up to a
    marker echoed after it; the terminal is closed afterwards."""
    response = labdeck.request("POST", f"/user/{name}/api/terminals", token=token)
    assert response.status_code == 200, response.text
    terminal = response.json()["name"]
    marker = uuid.uuid4().hex[:12]
    try:
        ws = _connect(labdeck, f"/user/{name}/terminals/websocket/{terminal}", token)
        try:
            # quoted apart, so the terminal's echo of the typed line never matches
            ws.send(json.dumps(["stdin", f'{command}; echo "END""{marker}"\r']))
            seen = ""
            while f"END{marker}" not in seen:
                message = json.loads(ws.recv())
                if message[0] == "stdout":
                    seen += message[1]
            return seen
        finally:
            ws.close()
    finally:
        labdeck.request("DELETE", f"/user/{name}/api/terminals/{terminal}", token=token)
