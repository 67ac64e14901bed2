"""The artist studio's forms. They turn what a person typed into the arguments of the generation and gallery
services; every rule (bounds, plans, states, file checks) is the service's."""

import json
from typing import Any

from django import forms

from generation.gan.config import RESOLUTIONS, GANConfig
from marketplace.gallery import conf as gallery_conf
from marketplace.gallery.models import LicenceType
from marketplace.storefront.page_forms import MultipleFileField, amount_to_minor, comma_list

DEFAULTS = GANConfig()


class DatasetUploadForm(forms.Form):
    name = forms.CharField(max_length=200, label="Dataset name")
    files = MultipleFileField(
        label="Images or one zip archive",
        help_text="PNG, JPEG or WEBP images, or a zip; class folders inside a zip become labels.",
    )


class TrainingRunForm(forms.Form):
    """A preset and a time budget (Atelier sizes the run for the device), or exact settings; any other engine
    setting as JSON. A new setting the engine gains is usable at once through `advanced`, and becomes a field
    of its own by adding it to FIELDS."""

    FIELDS = ("resolution", "steps", "batch_size", "conditional")
    PRESET_CHOICES = [
        ("", "None: use exactly the settings below"),
        ("quick", "Quick: a first look in a few minutes"),
        ("standard", "Standard: better images, about ten minutes on a CPU"),
        ("best", "Best: the most this plan allows"),
    ]

    dataset = forms.ChoiceField(label="Dataset")
    preset = forms.ChoiceField(
        choices=PRESET_CHOICES,
        required=False,
        initial="quick",
        label="Preset",
        help_text="Atelier picks the architecture, size and steps that fit the time here.",
    )
    budget_minutes = forms.FloatField(
        required=False, min_value=0.1, label="Time budget (minutes)", help_text="Leave empty for the preset's."
    )
    resolution = forms.TypedChoiceField(
        choices=[("", "The preset's")] + [(value, f"{value} × {value} px") for value in RESOLUTIONS],
        coerce=int,
        empty_value=None,
        required=False,
        label="Resolution",
    )
    steps = forms.IntegerField(
        required=False,
        label="Training steps",
        help_text=f"Exact steps instead of a budget (the engine's default is {DEFAULTS.steps:,}).",
    )
    batch_size = forms.IntegerField(required=False, label="Batch size")
    conditional = forms.BooleanField(
        required=False,
        label="One model for all class folders (conditional)",
        help_text="Lets you choose the class when generating.",
    )
    advanced = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        label="Other settings (JSON)",
        help_text='Any engine setting, e.g. {"latent_dim": 64, "loss": "hinge"}.',
    )

    def __init__(self, *args: Any, datasets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = datasets

    def clean_advanced(self) -> dict[str, Any]:
        text = self.cleaned_data.get("advanced", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Give an object, e.g. {"latent_dim": 64}.')
        return value

    def config(self) -> dict[str, Any]:
        """The overrides for training_run_create: the JSON first, the fields given above it on top."""
        data = self.cleaned_data
        overrides = dict(data.get("advanced") or {})
        for name in ("resolution", "steps", "batch_size"):
            if data.get(name) is not None:
                overrides[name] = data[name]
        if data.get("conditional"):
            overrides["conditional"] = True
        return overrides

    def plan_arguments(self) -> dict[str, Any]:
        """preset, budget_minutes and config for training_run_create / training_run_estimate."""
        data = self.cleaned_data
        return {
            "preset": data.get("preset") or None,
            "budget_minutes": data.get("budget_minutes"),
            "config": self.config(),
        }

    @staticmethod
    def error_fields() -> dict[str, str]:
        """Service field names (config.<name>) -> this form's fields; other settings land on `advanced`."""
        known = {name: name for name in TrainingRunForm.FIELDS}
        return {f"config.{name}": known.get(name, "advanced") for name in GANConfig.__dataclass_fields__} | {
            "config": "advanced",
            "dataset": "dataset",
            "preset": "preset",
            "budget_minutes": "budget_minutes",
            "config.budget_minutes": "budget_minutes",
        }


class FineTuneForm(forms.Form):
    """Start a fine-tune of a model version on its dataset plus the images kept from it."""

    fresh_discriminator = forms.BooleanField(
        required=False,
        label="Start the discriminator afresh",
        help_text="Keeps the generator; a new critic can help when the kept images differ from the original set.",
    )
    freeze_d_blocks = forms.IntegerField(
        required=False,
        min_value=0,
        initial=0,
        label="Discriminator blocks to freeze",
        help_text="Freezing the first blocks keeps what they learned (0: none).",
    )
    budget_minutes = forms.FloatField(
        required=False,
        min_value=0.1,
        label="Time budget (minutes)",
        help_text="Leave empty for a short run (a tenth of the parent's steps).",
    )

    ERROR_FIELDS = {
        "freeze_d_blocks": "freeze_d_blocks",
        "budget_minutes": "budget_minutes",
        "config.budget_minutes": "budget_minutes",
        "model": None,
    }

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "fresh_discriminator": bool(data.get("fresh_discriminator")),
            "freeze_d_blocks": data.get("freeze_d_blocks") or 0,
            "budget_minutes": data.get("budget_minutes"),
        }


class GenerateForm(forms.Form):
    MODES = [
        ("count", "A number of images"),
        ("seeds", "Particular seeds"),
        ("interpolate", "A walk between two seeds"),
    ]

    mode = forms.ChoiceField(choices=MODES, initial="count", widget=forms.RadioSelect, label="What to generate")
    count = forms.IntegerField(required=False, initial=8, label="How many")
    seeds = forms.CharField(required=False, label="Seeds", help_text="Whole numbers, separated by commas.")
    seed_a = forms.IntegerField(required=False, label="From seed")
    seed_b = forms.IntegerField(required=False, label="To seed")
    steps = forms.IntegerField(required=False, initial=8, label="Images along the walk")
    truncation = forms.FloatField(
        initial=1.0, label="Truncation", help_text="Below 1 trades variety for typical-looking images."
    )
    class_label = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Class")

    ERROR_FIELDS = {
        "count": "count",
        "seeds": "seeds",
        "truncation": "truncation",
        "class_label": "class_label",
        "interpolation.seed_a": "seed_a",
        "interpolation.seed_b": "seed_b",
        "interpolation.steps": "steps",
        "interpolation": "steps",
        "model": None,
    }

    def __init__(self, *args: Any, class_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if class_names:
            self.fields["class_label"].choices = [("", "Any class")] + list(enumerate(class_names))
        else:
            del self.fields["class_label"]

    def clean_seeds(self) -> list[int] | None:
        items = comma_list(self.cleaned_data.get("seeds", ""))
        try:
            return [int(item) for item in items] or None
        except ValueError:
            raise forms.ValidationError("Seeds are whole numbers separated by commas.") from None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of generation_job_create (less the user and model)."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {"truncation": data["truncation"], "class_label": data.get("class_label")}
        if data["mode"] == "interpolate":
            arguments["interpolation"] = {
                "seed_a": data.get("seed_a"),
                "seed_b": data.get("seed_b"),
                "steps": data.get("steps"),
            }
        elif data["mode"] == "seeds":
            arguments["seeds"] = data.get("seeds") or []
            if not arguments["seeds"]:
                self.add_error("seeds", "Give at least one seed.")
        else:
            arguments["count"] = data.get("count")
        return arguments


class ArtworkForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    tags = forms.CharField(required=False, max_length=1000, help_text="Separated by commas.")
    style = forms.CharField(required=False, max_length=40, help_text="One word, e.g. watercolour.")

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data.get("description", ""),
            "tags": comma_list(data.get("tags", "")),
            "style": data.get("style", ""),
        }


class ListingForm(forms.Form):
    licence_type = forms.ChoiceField(choices=LicenceType.choices, label="Licence")
    price = forms.CharField(max_length=20, label="Price, e.g. 12.50")
    currency = forms.ChoiceField(label="Currency")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in gallery_conf.get("GALLERY_CURRENCIES")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "price" in data and "currency" in data:
            try:
                data["price_minor"] = amount_to_minor(data["price"], data["currency"])
            except forms.ValidationError as exc:
                self.add_error("price", exc)
        return data


class RepriceForm(forms.Form):
    price = forms.CharField(max_length=20, label="New price")

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_price(self) -> int:
        return amount_to_minor(self.cleaned_data["price"], self.currency)
