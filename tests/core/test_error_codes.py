"""Error codes are members of a per-domain StrEnum (`core.errors.CommonError`, `<app>/errors.py`), never string
literals at a raise site: the source is read (ast) so a literal code cannot come back unnoticed."""

import ast
import importlib
import re
from enum import StrEnum
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_ROOTS = ("config", "core", "marketplace", "generation", "provenance")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# provider decline codes (`card_declined`…) are the payment provider's words, passed on as `decline_code`
NOT_PROBLEM_CODES = ("marketplace/subscriptions/payment_providers/",)
EXPECTED_DOMAINS = {
    "CommonError",
    "AccountError",
    "CommissionError",
    "GalleryError",
    "SubscriptionError",
    "WebhookError",
    "GenerationError",
    "ProvenanceError",
}


def _sources() -> list[Path]:
    return sorted(path for root in APP_ROOTS for path in (ROOT / root).rglob("*.py") if "migrations" not in path.parts)


def _domains() -> list[type[StrEnum]]:
    found = []
    for path in _sources():
        if path.name != "errors.py":
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == module.__name__
        ]
    return found


def _is_text(node: ast.AST | None) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _callee(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _assigned_codes(node: ast.Assign) -> list[ast.AST]:
    """The values a `code = ...` or `status, code, title = ...` assignment gives to `code`."""
    values = []
    for target in node.targets:
        if isinstance(target, ast.Name) and target.id == "code":
            values.append(node.value)
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            values += [
                value
                for name, value in zip(target.elts, node.value.elts, strict=False)
                if isinstance(name, ast.Name) and name.id == "code"
            ]
    return values


def literal_codes(tree: ast.AST) -> list[int]:
    """Lines where a problem code is written as a string: `code="..."` in a call (form and serializer
    `ValidationError`s aside: their codes name a field rule and never reach a problem), the code argument of
    `_django_problem`, or a string assigned to `code` (an error class's default, a handler's tuple)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) != "ValidationError":
            if any(keyword.arg == "code" and _is_text(keyword.value) for keyword in node.keywords):
                lines.append(node.lineno)
            if _callee(node) == "_django_problem" and len(node.args) > 1 and _is_text(node.args[1]):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign) and any(_is_text(value) for value in _assigned_codes(node)):
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_literal_codes_in_every_form():
    source = """
raise Conflict("Taken.", code="already_ordered")
raise Conflict(f"Taken.", code=f"already_{kind}")
_django_problem(404, "not_found", "Not found", "None.")
class Gone(AtelierError):
    status, code, title = 410, "gone", "Gone"
class Other(AtelierError):
    code = "other"
raise Conflict("Taken.", code=GalleryError.ALREADY_ORDERED)
raise forms.ValidationError("Required.", code="required")
"""
    assert literal_codes(ast.parse(source)) == [2, 3, 4, 6, 8]


def test_no_error_code_is_a_string_literal():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        if not str(path.relative_to(ROOT)).startswith(NOT_PROBLEM_CODES)
        for line in literal_codes(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert found == [], "use a member of the domain's StrEnum (core.errors.CommonError, <app>/errors.py)"


def test_each_domain_has_its_enum_in_its_errors_module():
    assert {domain.__name__ for domain in _domains()} == EXPECTED_DOMAINS


def test_codes_are_snake_case_and_unique_within_their_domain():
    for domain in _domains():
        values = [member.value for member in domain.__members__.values()]  # aliases included
        assert len(values) == len(set(values)), domain.__name__
        assert [value for value in values if not CODE.match(value)] == [], domain.__name__


def test_a_code_belongs_to_one_domain():
    """A code two apps raise is a CommonError: a client reading `code` need not know which app answered."""
    owners: dict[str, list[str]] = {}
    for domain in _domains():
        for member in domain:
            owners.setdefault(member.value, []).append(domain.__name__)
    assert {code: names for code, names in owners.items() if len(names) > 1} == {}


def test_every_code_is_used():
    """A member no source names is a code no client can receive: remove it with the raise site that went."""
    text = "\n".join(path.read_text() for path in _sources())
    unused = [
        f"{domain.__name__}.{member.name}"
        for domain in _domains()
        for member in domain
        if not re.search(rf"\b{domain.__name__}\.{member.name}\b", text)
    ]
    assert unused == []


def test_the_schema_lists_every_code_in_the_problem_component():
    from core.schema import document_problems

    problem = document_problems({}, None, None, True)["components"]["schemas"]["Problem"]
    described = problem["properties"]["code"]["description"]
    assert [f"{d.__name__}.{m.name}" for d in _domains() for m in d if f"`{m.value}`" not in described] == []
