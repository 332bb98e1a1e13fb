"""The brief's boundaries, read from the imports: a boundary is an import that does not exist."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"

# package → the packages of service/ it must not import (at module level or inside a function)
FORBIDDEN = {
    "forms": {"intake", "pipeline", "outbox", "mail", "state", "runner", "digest"},
    "intake": {"pipeline", "forms", "outbox", "digest", "runner"},
    "digest": {"runner", "intake", "pipeline"},
    "pipeline": {"runner", "intake"},
    "state": {"pipeline", "runner", "intake"},
    "outbox": {"pipeline", "runner", "intake"},
    "mail": {"pipeline", "runner", "intake"},
    # the console reads through the store and acts only through service.operator / web.accounts
    "web": {"intake", "runner", "outbox", "mail"},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    package = ["service", *path.relative_to(SERVICE).parent.parts]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            # "from . import x" / "from .. import runner" name modules too
            out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return out


def violations(part: str) -> list[str]:
    found = []
    for path in sorted((SERVICE / part).rglob("*.py")):
        for line, module in imported_modules(path):
            bits = module.split(".")
            if len(bits) > 1 and bits[0] == "service" and bits[1] in FORBIDDEN[part]:
                found.append(f"{path.relative_to(SERVICE.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_no_forbidden_import(part):
    assert (SERVICE / part).is_dir()
    assert violations(part) == []


def test_the_analysis_sees_a_forbidden_import(tmp_path, monkeypatch):
    fake = tmp_path / "service"
    (fake / "digest").mkdir(parents=True)
    (fake / "digest" / "x.py").write_text("def f():\n    from ..runner import Service\n    from .. import intake\n")
    monkeypatch.setitem(globals(), "SERVICE", fake)
    assert violations("digest") == ["service/digest/x.py:2 imports service.runner",
                                    "service/digest/x.py:2 imports service.runner.Service",
                                    "service/digest/x.py:3 imports service.intake"]


def test_one_title_per_issue_code_and_every_label_table_shows_it():
    from service.digest.data import load_labels
    from service.forms import annotate, issues
    from service.defaults import templates_dir
    types = [t for t in vars(issues).values() if isinstance(t, issues.IssueType)]
    by_code: dict[str, set[str]] = {}
    for t in types:
        by_code.setdefault(t.code, set()).add(t.title)
    assert all(len(ts) == 1 and next(iter(ts)).strip() for ts in by_code.values()), by_code
    assert annotate.CODE_LABELS == issues.titles() == load_labels(templates_dir())["errors"]
    assert issues.titles()["date-future"] == "Ngày sinh sau ngày hôm nay"
