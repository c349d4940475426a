"""Where the process runs (lego_api.core.runtime): on Lambda or not, and whether tasks run inline (SPEC §7.3). The
module imports nothing of ours, and the task helper no longer imports search (nor search the task helper's module
for this), so neither of the two import cycles it replaced can come back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lego_api.core import runtime

CORE = Path(runtime.__file__).parent


def test_on_lambda_follows_the_function_name_the_runtime_sets(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert not runtime.on_lambda()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "")
    assert not runtime.on_lambda()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lego-api-dev")
    assert runtime.on_lambda()


@pytest.mark.parametrize(
    ("function_name", "eager", "inline"),
    [(None, False, True), (None, True, True), ("lego-api-dev", False, False), ("lego-api-dev", True, True)],
)
def test_tasks_run_inline_off_lambda_or_when_eager(settings, monkeypatch, function_name, eager, inline):
    if function_name is None:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
    settings.TASKS_EAGER = eager
    assert runtime.runs_inline() is inline


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_runtime_module_imports_nothing_of_ours():
    assert {m for m in imported_modules(CORE / "runtime.py") if m.startswith(("lego_api", "mocs", "tests"))} == set()


def test_the_task_helper_does_not_import_search():
    assert not {m for m in imported_modules(CORE / "tasks.py") if m.startswith("lego_api.core.search")}
