"""No import cycles: every module imports on its own, in any order, and the module-level import graph has no loop.

A loop hidden by imports deferred on both sides still breaks the day someone moves one of them to the top, so the
rule is one-sided: a tasks module imports its app's services inside the task function; services import tasks at
the top. The static check below holds every module to it.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "core", "marketplace", "generation", "provenance")
SEEDS = (0, 1, 2)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_files() -> dict[str, Path]:
    """Every module of the project's packages but migrations and `__main__` scripts (they run on import)."""
    files = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts or path.name == "__main__.py":
                continue
            files[_module_name(path)] = path
    return files


MODULES = _module_files()

IMPORT_ALL = """
import importlib, json, os, random, sys
import django
django.setup()
modules = json.loads(sys.argv[1])
random.Random(int(sys.argv[2])).shuffle(modules)
failed = {}
for name in modules:
    try:
        importlib.import_module(name)
    except Exception as error:  # ImportError, a partially initialised module's AttributeError, ...
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_every_module_imports_in_a_fresh_interpreter_in_any_order(seed):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, json.dumps(sorted(MODULES)), str(seed)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


def _imports(name: str, path: Path) -> list[tuple[str, bool]]:
    """(imported project module, at module level?) for each import in the file; `if TYPE_CHECKING:` is skipped."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module or ""
        if node.level:
            stem = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*stem, *([node.module] if node.module else [])])
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]

    def visit(nodes: list[ast.stmt], top: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in targets(node):
                    while target and target not in MODULES:
                        target = target.rpartition(".")[0]
                    if target and target != name:
                        found.append((target, top))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, False)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit(inner, top)

    visit(ast.parse(path.read_text()).body, True)
    return found


def _graph(*, deferred: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        is_tasks = name.rpartition(".")[2] == "tasks"
        graph[name] = {
            target for target, top in _imports(name, path) if top or (deferred and not is_tasks)
        }  # a tasks module's deferred imports are the rule
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_the_module_level_import_graph_has_no_cycle():
    assert _cycles(_graph(deferred=False)) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_service_task_loop_hides_behind_deferred_imports(package):
    """Counting every deferred import but a tasks module's own, no loop runs through a tasks module."""
    loops = [
        cycle
        for cycle in _cycles(_graph(deferred=True))
        if cycle[0].partition(".")[0] == package and any(member.rpartition(".")[2] == "tasks" for member in cycle)
    ]
    assert loops == []


def test_the_graph_check_sees_a_loop():
    assert _cycles({"a.services": {"a.tasks"}, "a.tasks": {"a.services"}, "b": {"a.tasks"}}) == [
        ["a.services", "a.tasks"]
    ]
    assert _cycles({"a.services": {"a.tasks"}, "a.tasks": set()}) == []


def test_tasks_modules_import_services_only_inside_their_tasks():
    eager = {
        name: sorted(target for target, top in _imports(name, path) if top and ".services" in f".{target}.")
        for name, path in MODULES.items()
        if name.rpartition(".")[2] == "tasks"
    }
    assert {name: targets for name, targets in eager.items() if targets} == {}
