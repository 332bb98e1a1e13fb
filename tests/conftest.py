"""Shared fixtures: the real mail servers (a private Dovecot, aiosmtpd) live in mailservers.py."""
pytest_plugins = ["tests.mailservers"]
