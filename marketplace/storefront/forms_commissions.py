"""The commission pages' forms: parse what a person typed into the commission services' arguments (amounts in
the brief's currency, dates in UTC); the services judge it."""

from typing import Any

from django import forms

from marketplace.commissions.conf import DEFAULT_REVISIONS
from marketplace.storefront.page_forms import MultipleFileField, amount_to_minor
from marketplace.subscriptions import conf as subscriptions_conf

# The embedded test provider's documented payment methods (README, "Payments without a payment processor").
TEST_CARDS = [
    ("tok_visa", "Visa ending 4242 (succeeds)"),
    ("tok_mastercard", "Mastercard ending 4444 (succeeds)"),
    ("tok_card_declined", "Card that is declined"),
    ("tok_insufficient_funds", "Card with insufficient funds"),
    ("tok_expired_card", "Expired card"),
    ("tok_requires_action", "Card that asks you to authenticate (3-D Secure)"),
]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _datetime_field(**kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        **kwargs,
    )


class BriefForm(forms.Form):
    title = forms.CharField(required=False, max_length=120)
    description = forms.CharField(
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="What you want",
        help_text="Subject, mood, colours, where it will be used.",
    )
    style = forms.CharField(required=False, max_length=500)
    budget = forms.CharField(max_length=20, label="Budget, e.g. 50.00")
    currency = forms.CharField(max_length=3, initial="USD", label="Currency (USD, EUR…)")
    deadline = _datetime_field(label="Deadline (UTC)")
    target_artist = forms.UUIDField(required=False, widget=forms.HiddenInput)
    target_model = forms.UUIDField(required=False, widget=forms.HiddenInput)
    references = MultipleFileField(
        required=False,
        label="Reference images",
        help_text="Optional: PNG, JPEG or WEBP pictures of what you have in mind.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "budget" in data:
            try:
                data["budget_minor"] = amount_to_minor(data["budget"], data.get("currency") or "USD")
            except forms.ValidationError as exc:
                self.add_error("budget", exc)
        return data

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data.get("title", ""),
            "description": data["description"],
            "style": data.get("style", ""),
            "budget": data["budget_minor"],
            "currency": data["currency"],
            "deadline": data["deadline"],
            "target_artist": data.get("target_artist"),
            "target_model": data.get("target_model"),
            "references": data.get("references") or [],
        }


class OfferForm(forms.Form):
    price = forms.CharField(max_length=20, label="Your price, e.g. 45.00")
    delivery_by = _datetime_field(label="I will deliver by (UTC)")
    revisions = forms.IntegerField(initial=DEFAULT_REVISIONS, label="Revisions included")
    message = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_price(self) -> int:
        return amount_to_minor(self.cleaned_data["price"], self.currency)


class PayForm(forms.Form):
    """The payment method: the test provider's cards as a choice; a provider token otherwise."""

    payment_method = forms.CharField(max_length=255, label="Pay with")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if subscriptions_conf.get("PAYMENT_PROVIDER") == "test":
            self.fields["payment_method"] = forms.ChoiceField(choices=TEST_CARDS, label="Pay with (test cards)")


class CancelForm(forms.Form):
    note = forms.CharField(required=False, max_length=5000, label="Why")


class DeliveryUploadForm(forms.Form):
    images = MultipleFileField(label="Images")
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class DeliveryGenerateForm(forms.Form):
    model = forms.ChoiceField(label="Model")
    count = forms.IntegerField(initial=4, label="Images")
    seed = forms.IntegerField(required=False, label="First seed")
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, models: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = models


class RevisionForm(forms.Form):
    note = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="What should change")
    deadline = _datetime_field(required=False, label="New due date (UTC)")


class DeliveryAcceptForm(forms.Form):
    note = forms.CharField(required=False, max_length=5000, label="A note for the artist")
