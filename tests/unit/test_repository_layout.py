"""The test tree keeps the shape CONTRIBUTING.md describes."""

from __future__ import annotations

from pathlib import Path


def test_no_test_module_imports_another_test_module():
    """Shared helpers live in tests/fixtures/ and tests/factories.py, so a test can move or go alone."""
    import ast

    tests = Path(__file__).parents[1]
    offenders = []
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(".test_" in (m or "") or (m or "").startswith("test_") for m in [module, *names]):
                offenders.append(f"{path.relative_to(tests)}:{node.lineno}")
    assert offenders == []
