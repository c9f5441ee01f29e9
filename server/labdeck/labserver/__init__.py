"""The labdeck jupyter-server extension that runs inside every user's lab."""
