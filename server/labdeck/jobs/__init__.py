"""Training jobs: a script or a command run in the background as its owner's account."""
