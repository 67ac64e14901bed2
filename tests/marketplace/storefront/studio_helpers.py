"""Builders shared by the studio and commission page tests: signed-in page clients, private media, a real tiny
exported model, and the HTML bits the tests read."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.test import Client

from tests.generation.factories import export_tiny_onnx, install_model_version

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def page_client(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def html_of(response) -> str:
    return response.content.decode()


def field_errors(html: str, field: str) -> list[str]:
    """The messages listed under the form field whose id is id_<field>."""
    block = re.search(rf'<ul class="errorlist" id="id_{re.escape(field)}_errors">(.*?)</ul>', html, re.S)
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)] if block else []


def form_errors(html: str) -> str:
    block = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", block.group(1))) if block else ""


def input_value(html: str, field: str) -> str | None:
    tag = re.search(rf'<(?:input|textarea)[^>]*\bname="{re.escape(field)}"[^>]*>', html)
    if tag is None:
        return None
    if tag.group(0).startswith("<textarea"):
        body = re.search(rf'<textarea[^>]*name="{re.escape(field)}"[^>]*>(.*?)</textarea>', html, re.S)
        return unescape(body.group(1)).strip() if body else ""
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


@pytest.fixture
def studio_media(settings, tmp_path: Path) -> dict[str, Path]:
    dirs = {"media": tmp_path / "media", "runs": tmp_path / "runs"}
    settings.MEDIA_ROOT = str(dirs["media"])
    settings.GENERATION_RUNS_ROOT = str(dirs["runs"])
    return dirs


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_onnx(tmp_path_factory.mktemp("studio-onnx"), conditional=False)


@pytest.fixture(scope="session")
def tiny_conditional_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_onnx(tmp_path_factory.mktemp("studio-onnx-conditional"), conditional=True)


@pytest.fixture
def tiny_model(db, studio_media, tiny_onnx, request):
    def make(owner, *, conditional: bool = False):
        path = request.getfixturevalue("tiny_conditional_onnx") if conditional else tiny_onnx
        return install_model_version(owner=owner, onnx_path=path, conditional=conditional)

    return make
