# labdeck's JupyterHub configuration.
#
# `labdeck up` runs the hub with this file (with labdeck's JupyterHub, labdeck.hub.app:
# it loads the admin token and stops labs before the service; plain `jupyterhub -f` runs
# it too, without the admin token). It only sets values, through the small
# functions in labdeck.hub.configurer, from settings `labdeck up` passes in the
# environment (state dir, ports, admin name, GPUs). To change anything, put a *.py file
# in <state-dir>/jupyterhub_config.d/: those are loaded last and win. For example:
#
#   c.QuotaPolicy.group_quotas = {"class-101": {"gpu": {"daily_seconds": 2 * 3600}}}
#   c.QuotaPolicy.reset = "daily"; c.QuotaPolicy.reset_time = "14:00"
#   c.QuotaPolicy.timezone = "Europe/Paris"
#   c.RuntimeProfiles.profiles = [...]
from pathlib import Path

from labdeck.hub.configurer import apply_defaults, share_with_service, warn_if_isolation_off
from labdeck.hub.settings import HubSettings

settings = HubSettings.from_env()
apply_defaults(c, settings)

for override in sorted(Path(settings.state.config_d).glob("*.py")):
    load_subconfig(str(override))

warn_if_isolation_off(c)
share_with_service(c)
