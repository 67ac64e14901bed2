"""Serializer helpers: write serializers reject fields they do not know, instead of silently ignoring them."""

from typing import Any

from rest_framework import serializers


class StrictFieldsMixin:
    """Unknown keys in a write payload are a 400 naming them (a typo must not pass as a no-op)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data.keys()) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    pass


def query_values(params: Any) -> dict[str, str]:
    """A request's query string as a plain dict (the last value of each name) for a filter serializer: fed the
    QueryDict itself, DRF applies HTML-form rules and reads `?state=` as absent, so a blank filter would
    silently list everything instead of being the 400 any other invalid value is."""
    return dict(params.items())
