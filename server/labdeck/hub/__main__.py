"""`python -m labdeck.hub`: the labdeck hub (JupyterHub's options, labdeck's order)."""

from .app import main

main()
