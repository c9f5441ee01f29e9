"""Hub-side parts of labdeck: configuration, authenticator and spawner."""
