"""Shared fixtures: the real mail servers (a private Dovecot, aiosmtpd) live in mailservers.py;
the session-wide check that no log line carries personal data lives in privacy_guard.py."""
pytest_plugins = ["tests.mailservers", "tests.privacy_guard"]
