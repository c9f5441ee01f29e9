"""The user's sparkmagic configuration, written for a labdeck cluster.

sparkmagic reads ~/.sparkmagic/config.json (or $SPARKMAGIC_CONF_DIR/config.json). The
Livy endpoint is the cluster's gateway in the labdeck service; `custom_headers` carry
this server's hub token, which changes at every start, so it is refreshed then.
"""

import json
import os
from pathlib import Path

MARKER = "labdeck_cluster"  # our key: only configs labdeck wrote are refreshed


def config_path() -> Path:
    directory = os.environ.get("SPARKMAGIC_CONF_DIR") or str(Path.home() / ".sparkmagic")
    return Path(directory) / "config.json"


def sparkmagic_config(livy_url: str, token: str, cluster_id: str, cluster_name: str) -> dict:
    credentials = {"username": "", "password": "", "url": livy_url, "auth": "None"}
    return {
        MARKER: {"id": cluster_id, "name": cluster_name},
        "kernel_python_credentials": credentials,
        "kernel_scala_credentials": credentials,
        "custom_headers": {"Authorization": f"token {token}"},
        # Spark drivers take a while on small machines; do not give up early
        "livy_session_startup_timeout_seconds": 240,
        "wait_for_idle_timeout_seconds": 120,
        # heartbeats keep an open notebook's session alive; abandoned ones are cleaned
        "heartbeat_refresh_seconds": 30,
        "heartbeat_retry_seconds": 10,
        "livy_server_heartbeat_timeout_seconds": 120,
        "retry_policy": "configurable",
        "configurable_retry_policy_max_retries": 8,
        "ignore_ssl_errors": False,
        "session_configs": {"driverMemory": "1g"},
        "use_auto_viz": True,
        "coerce_dataframe": True,
        "max_results_sql": 2500,
    }


def write_config(config: dict, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent=2)
    temporary.replace(path)
    return path


def read_config(path: Path | None = None) -> dict | None:
    path = path or config_path()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def refresh_token(token: str, path: Path | None = None) -> bool:
    """Put this start's token into a labdeck-written config; False if there is none."""
    config = read_config(path)
    if not config or MARKER not in config:
        return False
    config["custom_headers"] = {"Authorization": f"token {token}"}
    write_config(config, path)
    return True
