"""The API surface: OpenAPI schema, Swagger UI without a CDN, schemathesis against a live server, admin."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client

from tests.helpers import CHROMIUM, REPO


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_versioned(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert "/api/v1/me" in schema["paths"]
    assert "bearer" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_state_descriptions_stay_on_their_own_fields(api):
    """A schema annotation on a shared field class (e.g. serializers.CharField) leaks onto every field of it."""
    schemas = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["components"]["schemas"]
    user = schemas["User"]["properties"]
    assert "description" not in user["email"] and "description" not in user["bio"]
    assert user["avatar"]["format"] == "uri" and user["avatar"]["nullable"] is True
    assert "delivered" in schemas["Commission"]["properties"]["state"]["description"]


# Words that only mean something to someone reading the code: an operation's text is for the API's users.
INTERNAL_WORDS = re.compile(
    r"\bDRF\b|\bDjango\b|[Mm]ix into|SuspiciousOperation|[Ss]erializer|[Qq]ueryset|"
    r"[Ss]elector|[Ss]ubclass|\bself\.|\bclass [A-Z]|\bkwargs\b|__\w+__"
)


@pytest.mark.django_db
def test_every_operation_says_what_it_does_in_words_for_its_users(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    silent, internal = [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            text = f"{operation.get('summary', '')} {operation.get('description', '')}".strip()
            if not text:
                silent.append(f"{method.upper()} {path}")
            elif INTERNAL_WORDS.search(text):
                internal.append(f"{method.upper()} {path}: {text[:120]}")
    assert silent == [] and internal == []


@pytest.mark.django_db
def test_every_error_answer_is_documented_as_a_problem(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "code"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "401", "403", "404", "429"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)


def test_schema_generation_has_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert yaml.safe_load(result.stdout)["info"]["title"] == "Atelier API"


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(api):
    html = api.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # every script, stylesheet and image comes from this server (a random CSRF token may well contain "cdn")
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(
        r"""url\(["']?([^"')]+)""", html
    )
    assert addresses and not [a for a in addresses if re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", a, re.I)]
    assert "unpkg.com" not in html and "jsdelivr" not in html


@pytest.mark.django_db
def test_admin_lists_users_and_api_keys(client, make_user):
    staff = make_user(role="staff")
    client.force_login(staff)
    for url in ("/admin/accounts/user/", "/admin/accounts/apikey/"):
        assert client.get(url).status_code == 200


@pytest.mark.browser
def test_swagger_ui_renders_in_chromium(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "Atelier API" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-tag-section", timeout=30_000)
            operations = page.locator(".opblock").count()
            assert operations >= 5
        finally:
            browser.close()


def _credential(identity: str, make_user) -> str:
    """A bearer secret for one kind of caller: a login token of each role, or an API key with narrow scopes."""
    from marketplace.accounts.services import api_key_create, token_issue

    if identity == "api_key":
        user = make_user(role="buyer")
        return api_key_create(user=user, name="narrow", scopes=["gallery:read", "commissions:read"]).secret
    return token_issue(user=make_user(role=identity)).secret


# (identity, examples per operation, phases, only these paths). The artist reaches the most operations: the most
# examples and stateful sequences. The coverage phase (every boundary of every parameter: about 4,800 of a run's
# 5,262 cases, 150 of its 165 s) exercises validators that do not depend on who calls, so it runs for the artist,
# and for staff only on the one operation only staff may call; buyers, staff elsewhere and a narrow API key mostly
# meet 403s and 404s, which examples and fuzzing reach (the buyer's run: 418 cases in 16 s).
STAFF_ONLY_PATHS = ("/api/v1/orders/{public_id}/refund",)
SCHEMATHESIS_RUNS = [
    ("artist", 5, "examples,coverage,fuzzing,stateful", ()),
    ("staff", 3, "examples,fuzzing", ()),
    ("staff", 3, "coverage", STAFF_ONLY_PATHS),
    ("buyer", 3, "examples,fuzzing", ()),
    ("api_key", 3, "examples,fuzzing", ()),
]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("identity", "examples", "phases", "only_paths"), SCHEMATHESIS_RUNS)
def test_schemathesis_with_every_check_finds_nothing(
    identity, examples, phases, only_paths, live_server, make_user, tmp_path
):
    """Every schemathesis check (server errors, schema and status conformance, negative data rejected, positive
    data accepted, use after free, resource availability, ignored auth, …) over examples, coverage, fuzzing and
    stateful sequences. Where a schema-valid request is rightly refused (a body that must be a real image, a
    date that must be in the future), tests/config/schemathesis.toml allows the 400 for that operation and
    says why."""
    secret = _credential(identity, make_user)
    schema = tmp_path / "openapi.json"  # fetched here: generating it under load can outlast the CLI's timeout
    schema.write_bytes(Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    cli = Path(sys.executable).with_name("schemathesis")
    assert cli.exists() or shutil.which("schemathesis")
    result = subprocess.run(
        [
            str(cli),
            "--config-file",
            str(REPO / "tests/config/schemathesis.toml"),
            "run",
            str(schema),
            "--url",
            live_server.url,
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {secret}",
            "--max-examples",
            str(examples),
            "--phases",
            phases,
            "--seed",
            "1",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--no-color",
            "--exclude-path",
            "/api/v1/auth/logout",
            "--exclude-path",
            "/api/v1/auth/password",
            "--generation-database",
            "none",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
            *(argument for path in only_paths for argument in ("--include-path", path)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.log").write_text(output)
    failures = output[output.find("FAILURES") : output.find("WARNINGS")] if "FAILURES" in output else output[-8000:]
    assert result.returncode == 0, failures[:12000]


def test_every_api_route_resolves_to_itself_whatever_the_order_of_the_apps():
    """config/urls.py puts the gallery's routes first (the public browse is the hottest path and Django tries
    patterns in order). That is only safe while no route of one app can shadow a route of another: each route,
    filled with sample values, must resolve to itself."""
    from django.urls import resolve

    from tests.marketplace.world import api_routes

    samples = {"uuid": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "int": "7", "str": "token", "slug": "a-slug"}
    shadowed = {}
    for name, route in api_routes().items():
        path = re.sub(r"<(?:(\w+):)?\w+>", lambda match: samples[match.group(1) or "str"], route.route)
        resolved = resolve(path).url_name
        if resolved != name:
            shadowed[name] = (path, resolved)
    assert shadowed == {}
