"""Every setting is declared once (core/conf.py): the README's table is printed from the declarations, settings
take their values from them, each variable is read as its kind says, and every `conf.get` names a declared setting."""

import os
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config import settings_table
from config.conf import ALL_SETTINGS, APPS
from core.conf import (
    CURRENCY_CODES,
    DAYS_LIST,
    FLAG,
    INTEGER,
    ORIGIN,
    SECONDS,
    TEXT,
    Setting,
    Settings,
    blank_is_default,
)
from marketplace.gallery import conf as gallery_conf
from tests.helpers import REPO


def test_the_readme_table_is_the_one_the_declarations_print():
    readme = (REPO / "README.md").read_text()
    assert settings_table.readme_with_table(readme) == readme, (
        "README.md's settings table is out of date: run `python -m config.settings_table --write`"
    )


def test_each_setting_and_each_variable_is_declared_once():
    declared = [setting for collection in ALL_SETTINGS for setting in collection]
    names = [setting.name for setting in declared]
    variables = [setting.env for setting in declared if setting.env]
    assert len(names) == len(set(names))
    assert len(variables) == len(set(variables))
    assert all(setting.doc and "\n" not in setting.doc for setting in declared)


def test_settings_take_each_app_setting_from_its_declaration():
    for setting in (setting for collection in APPS for setting in collection):
        if setting.env is None or setting.env not in os.environ:
            assert getattr(settings, setting.name) == setting.default, setting.name


def test_the_accessor_reads_django_settings_at_call_time(settings):
    settings.GALLERY_MAX_UPLOAD_BYTES = 1234
    assert gallery_conf.get("GALLERY_MAX_UPLOAD_BYTES") == 1234
    del settings.GALLERY_MAX_UPLOAD_BYTES
    assert gallery_conf.get("GALLERY_MAX_UPLOAD_BYTES") == 25 * 1024 * 1024  # unset: the declared default
    with pytest.raises(KeyError):
        gallery_conf.get("GALLERY_NOT_DECLARED")


def test_every_conf_get_names_a_setting_its_app_declares():
    declared = {setting.name for collection in ALL_SETTINGS for setting in collection}
    used = set()
    for path in (
        path
        for top in ("bench", "config", "core", "generation", "marketplace", "provenance")
        for path in (REPO / top).rglob("*.py")
    ):
        used |= set(re.findall(r"conf\.get\(\s*[\"']([A-Z0-9_]+)[\"']", path.read_text()))
    assert used and used <= declared, sorted(used - declared)


def test_no_declared_setting_gets_a_second_default_where_it_is_read():
    declared = {setting.name for collection in ALL_SETTINGS for setting in collection}
    second_defaults = [
        f"{path.relative_to(REPO)}: {name}"
        for top in ("bench", "config", "core", "generation", "marketplace", "provenance")
        for path in (REPO / top).rglob("*.py")
        for name in re.findall(r"getattr\(\s*settings\s*,\s*[\"']([A-Z0-9_]+)[\"']\s*,", path.read_text())
        if name in declared
    ]
    assert second_defaults == []


def _read(kind, raw, default, monkeypatch):
    monkeypatch.setenv("ATELIER_TEST_SETTING", raw)
    return Setting("ATELIER_TEST_SETTING", kind, default, "a test").from_environment()


@pytest.mark.parametrize(
    ("kind", "raw", "default", "expected"),
    [
        (INTEGER, "7", 3, 7),
        (INTEGER, "", 3, 3),  # blank: the default
        (FLAG, "on", False, True),
        (FLAG, "", True, False),  # blank: off, as before
        (blank_is_default(FLAG), "", True, True),
        (TEXT, "", "x", ""),
        (blank_is_default(TEXT), "", None, None),
        (SECONDS, "90", timedelta(minutes=1), timedelta(seconds=90)),
        (SECONDS, "", timedelta(minutes=1), timedelta(minutes=1)),
        (CURRENCY_CODES, "usd, jpy", ("USD",), ("USD", "JPY")),
        (CURRENCY_CODES, "", ("USD",), ("USD",)),
        (DAYS_LIST, "2,4", [timedelta(days=1)], [timedelta(days=2), timedelta(days=4)]),
        (ORIGIN, "https://atelier.example/", "", "https://atelier.example"),
    ],
)
def test_each_kind_reads_its_variable_as_before(kind, raw, default, expected, monkeypatch):
    assert _read(kind, raw, default, monkeypatch) == expected


def test_a_malformed_number_names_its_variable(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="ATELIER_TEST_SETTING must be an integer"):
        _read(INTEGER, "ten", 3, monkeypatch)


def test_unset_variables_take_the_default_and_production_its_own(monkeypatch):
    monkeypatch.delenv("ATELIER_TEST_SETTING", raising=False)
    declared = Settings(Setting("ATELIER_TEST_SETTING", FLAG, False, "a test", production_default=True))
    assert declared.read("ATELIER_TEST_SETTING") is False
    assert declared.read("ATELIER_TEST_SETTING", production=True) is True
