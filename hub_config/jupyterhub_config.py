# labdeck's JupyterHub configuration.
#
# `labdeck up` runs the hub with this file. It only sets values, through the small
# functions in labdeck.hub.configurer, from settings `labdeck up` passes in the
# environment (state dir, ports, admin name). To change anything, put a *.py file in
# <state-dir>/jupyterhub_config.d/: those are loaded last and win.
from pathlib import Path

from labdeck.hub.configurer import apply_defaults
from labdeck.hub.settings import HubSettings

settings = HubSettings.from_env()
apply_defaults(c, settings)

for override in sorted(Path(settings.state.config_d).glob("*.py")):
    load_subconfig(str(override))
