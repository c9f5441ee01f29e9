"""After an install, JupyterLab and jupyter-server see labdeck's extensions as enabled."""

import re
import subprocess
import sys
from pathlib import Path

import labdeck

JUPYTER = str(Path(sys.executable).with_name("jupyter"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args: str) -> str:
    result = subprocess.run(
        [JUPYTER, *args], capture_output=True, text=True, timeout=120, check=True
    )
    return ANSI.sub("", result.stdout + result.stderr)


def test_lab_extension_is_listed_as_enabled():
    output = jupyter("labextension", "list")
    assert re.search(rf"labdeck v{re.escape(labdeck.__version__)} enabled\s+OK", output), output


def test_server_extension_is_enabled_and_loads():
    output = jupyter("server", "extension", "list")
    assert re.search(r"labdeck enabled", output), output
    assert re.search(rf"labdeck {re.escape(labdeck.__version__)} OK", output), output


def test_hub_config_ships_with_the_package():
    from labdeck.up import hub_config_path

    assert hub_config_path().is_file()
