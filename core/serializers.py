"""Serializer helpers: write serializers reject fields they do not know, instead of silently ignoring them."""

from typing import Any

from rest_framework import serializers

# JSON types a declared field accepts. DRF coerces (0 is false, "5" is 5, 5 is "5"): the schema promises a
# boolean, an integer or a string, so a JSON body must send one.
_JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
    (serializers.MultipleChoiceField, (list,), "a list"),
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str, int), "one of the choices"),
    (serializers.UUIDField, (str,), "a UUID string"),
    (serializers.DateTimeField, (str,), "an ISO 8601 date-time string"),
    (serializers.ListField, (list,), "a list"),
]


def _json_type_error(field: serializers.Field, value: Any) -> list[str] | dict[int, list[str]] | None:
    """What is wrong with the JSON type of `value` for `field`, in DRF's error shape, or None. A list's items are
    checked against its child field too (["a", 5] for a list of strings would otherwise be stored as "5")."""
    if value is None:
        return None  # allow_null decides
    for kind, types, words in _JSON_TYPES:
        if isinstance(field, kind):
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                return [f"Must be {words}."]
            break
    child = getattr(field, "child", None)
    if isinstance(field, serializers.ListField) and child is not None:
        items = {index: error for index, item in enumerate(value) if (error := _json_type_error(child, item))}
        return items or None
    return None


class StrictFieldsMixin:
    """Unknown keys in a write payload are a 400 naming them (a typo must not pass as a no-op), and in a JSON
    body each value must have its field's JSON type."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data.keys()) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
            if not hasattr(data, "getlist"):  # JSON (a QueryDict is a form: only strings and files)
                wrong = {
                    name: error
                    for name in data
                    if name in self.fields
                    if (error := _json_type_error(self.fields[name], data[name]))
                }
                if wrong:
                    raise serializers.ValidationError(wrong)
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
