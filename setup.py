"""Ship config/ and mail_templates/ inside the installed package as service.defaults.*.

The repository keeps them at the top level (where the operator edits them); a plain
`pip install .` must still carry them, so they are mapped into the package here.
"""
from setuptools import find_packages, setup

MAPPED = {
    "service.defaults.config": "config",
    "service.defaults.mail_templates": "mail_templates",
    "service.defaults.inbox_samples": "inbox_samples",
}

setup(
    packages=find_packages(include=["service", "service.*"]) + list(MAPPED),
    package_dir=MAPPED,
    package_data={
        "service.defaults.config": ["*.toml"],
        "service.defaults.mail_templates": ["*", "*/*", "*/*/*"],
        "service.defaults.inbox_samples": ["*.eml", "*.toml", "folder/*/*"],
        "service": ["py.typed"],
    },
)
