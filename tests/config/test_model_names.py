"""The admin and error messages name models in plain English: a plural the admin would guess wrong is set."""

import re

from django.apps import apps


def test_every_model_has_a_plural_a_person_would_write():
    wrong = {
        model._meta.label: str(model._meta.verbose_name_plural)
        for model in apps.get_models()
        if re.search(r"[^aeiou]ys$", str(model._meta.verbose_name_plural))
    }
    assert wrong == {}


def test_acronyms_keep_their_capitals():
    names = {str(model._meta.verbose_name) for model in apps.get_models()}
    assert not [name for name in names if re.search(r"\b(api|url|totp|pdq)\b", name)]
