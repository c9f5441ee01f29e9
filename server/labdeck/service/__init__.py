"""The labdeck control-plane service: a JupyterHub-managed tornado app with a REST API."""
