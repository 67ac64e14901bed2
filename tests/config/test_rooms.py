"""Each role has one kind of module (DESIGN.md, "rooms"): receivers in `receivers.py`, row locks in `locks.py`."""

import ast

from tests.config.test_import_graph import MODULES


def _connects_receivers(tree: ast.Module) -> bool:
    """An `@receiver(...)` decorator, or a `signal.connect(..., sender=/dispatch_uid=)` call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "receiver"
            for decorator in node.decorator_list
        ):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "connect"
            and {keyword.arg for keyword in node.keywords} & {"sender", "dispatch_uid"}
        ):
            return True
    return False


def test_signal_receivers_live_in_receivers_modules():
    """Receivers are connected only from `receivers.py` (each imported by its AppConfig.ready)."""
    elsewhere = sorted(
        name
        for name, path in MODULES.items()
        if name.rpartition(".")[2] != "receivers" and _connects_receivers(ast.parse(path.read_text()))
    )
    assert elsewhere == []


def _takes_row_locks(tree: ast.Module) -> bool:
    """A `select_for_update(...)` that waits for the row (SKIP LOCKED claims are a queue's, not a lock's)."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "select_for_update"
        and not any(keyword.arg == "skip_locked" for keyword in node.keywords)
        for node in ast.walk(tree)
    )


def test_row_locks_live_in_locks_modules():
    elsewhere = sorted(
        name
        for name, path in MODULES.items()
        if name.rpartition(".")[2] != "locks" and _takes_row_locks(ast.parse(path.read_text()))
    )
    assert elsewhere == []
