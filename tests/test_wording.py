"""Words outside mail live in one catalogue (mail_templates/messages.toml): every key the code
asks for is there, and the command modules hold no Vietnamese literals of their own."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from service.wording import _catalogue, say

SERVICE = Path(__file__).resolve().parent.parent / "service"
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", re.IGNORECASE)


def _say_keys():
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("say", "say_each") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                yield path, node.args[0].value


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    keys = list(_say_keys())
    assert len(keys) > 40
    for path, key in keys:
        node = _catalogue()
        for part in key.split("."):
            assert part in node, f"{path.name}: {key}"
            node = node[part]
        texts = node if isinstance(node, list) else [node]
        assert texts and all(isinstance(t, str) and t.strip() for t in texts), key


def _literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs and VIETNAMESE.search(n.value)]


def test_the_command_modules_say_everything_through_the_catalogue():
    for name in ("commands.py", "cli.py", "digest/command.py", "intake/mail_item.py", "intake/mime.py", "urls.py",
                 "outbox/transport.py", "outbox/sender.py", "forms/read/guard.py",
                 "forms/render.py", "digest/workbook.py", "forms/annotate.py"):
        assert _literals(SERVICE / name) == [], name


def test_placeholders_are_filled():
    assert say("status.held", count=3) == "Mục đang giữ cho cán bộ: 3 (vaxmail held)"
