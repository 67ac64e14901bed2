"""What the studio and commission pages share about forms: multiple-file fields, money typed by a person,
reading an upload without Django's size guards turning into a crash, and putting a service's refusal on the
form field it names.

Forms here only parse what was typed into the types a service takes; the services judge it (bounds, states,
plans, hostile files), so a page can never accept what the API refuses.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import HttpRequest

from core.errors import AtelierError

# ISO 4217 currencies without minor units; every other one is taken to have two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def currency_exponent(currency: str) -> int:
    return 0 if str(currency).upper() in ZERO_DECIMAL_CURRENCIES else 2


def amount_to_minor(text: str, currency: str) -> int:
    """'12.50' USD -> 1250. A value with more decimals than the currency has is refused, not rounded."""
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise forms.ValidationError("Enter an amount such as 12.50.") from None
    if not value.is_finite():
        raise forms.ValidationError("Enter an amount such as 12.50.")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise forms.ValidationError(f"{currency} amounts have at most {currency_exponent(currency)} decimals.")
    return int(scaled)


def minor_to_amount(minor: int | None, currency: str) -> str:
    if minor is None:
        return ""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files. Empty files are let through: the upload service reports each file's fate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not items and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        single = super().clean
        return [single(item, initial) for item in items]


class UploadRefused(Exception):
    """The request body broke one of Django's own upload limits (too many files, too large)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def read_post(request: HttpRequest) -> tuple[Any, Any]:
    """(POST, FILES), or UploadRefused where the API would answer 413/400: Django raises SuspiciousOperation
    subclasses when it parses an oversized multipart body, which would otherwise be a bare 400 page."""
    try:
        return request.POST, request.FILES
    except (TooManyFilesSent, RequestDataTooBig) as exc:
        raise UploadRefused(f"The upload is too large: {exc}.", 413) from None
    except SuspiciousOperation:
        raise UploadRefused("The upload could not be read.", 400) from None


def bind(request: HttpRequest, form_class: type[forms.Form], **kwargs: Any) -> forms.Form:
    """The form bound to the request's POST and FILES (raises UploadRefused, see read_post)."""
    data, files = read_post(request)
    return form_class(data=data, files=files, **kwargs)


def add_service_error(form: forms.Form, exc: AtelierError, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the field it names (`errors` of InvalidInput), else on the whole form.

    `fields` maps a service field name (or its first dotted part) to the form's field: `config.steps` ->
    `steps`, `seeds.3` -> `seeds`."""
    fields = fields or {}
    named = (exc.extra or {}).get("errors") or {}
    placed = False
    for name, messages in named.items():
        target = fields.get(name) or fields.get(name.split(".")[0]) or (name if name in form.fields else None)
        if target not in form.fields:
            target = None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(target, str(message))
        placed = True
    if not placed:
        form.add_error(None, str(exc.detail))


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in str(text or "").replace("\n", ",").split(",") if item.strip()]
