"""Outgoing mail: Jinja2 templates (all wording lives in mail_templates/) and MIME building."""
