"""Settings declared once: each app's `conf.py` lists its settings as `Setting`s in a `Settings` collection.

A declaration names the Django setting, its kind (how the variable is read), its default, a one-line meaning and
the environment variable that sets it (the setting's own name unless it says otherwise; None: a Django setting
only). `config/settings.py` reads every declaration from the environment once (`environment_values`, and
`config/conf.py`'s project settings one by one); the app reads the value at call time with `conf.get(NAME)`, so
tests (the `settings` fixture, `override_settings`) and operators can change it. The README's settings table is
printed from the same declarations (`python -m config.settings_table`).

Import nothing here, and nothing in a `conf.py`, that needs the app registry: settings import them before apps load.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

from config.env import env_bool, env_float, env_int, env_list, env_str


@dataclass(frozen=True)
class Kind:
    """How one kind of setting is read from its environment variable and shown in the README."""

    label: str
    read: Callable[[str, Any], Any]  # (variable, default) -> value; the default when the variable is unset
    coerce: Callable[[Any], Any] = lambda value: value  # applied at call time, to overrides as well
    show: Callable[[Any], str] = lambda value: f"`{value}`"


def _show_number(value: Any) -> str:
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def _duration(unit: str) -> Kind:
    def read(name: str, default: timedelta) -> timedelta:
        raw = env_str(name, "")
        return default if raw.strip() == "" else timedelta(**{unit: env_int(name, 0)})

    return Kind(f"{unit}", read, show=lambda value: f"`{value / timedelta(**{unit: 1}):g}`")


def blank_is_default(kind: Kind) -> Kind:
    """The same kind, except that a variable set to the empty string counts as unset."""
    return Kind(
        kind.label,
        lambda name, default: kind.read(name, default) if env_str(name, "") else default,
        kind.coerce,
        kind.show,
    )


def _read_list(name: str, default: Iterable[str]) -> list[str]:
    return env_list(name, list(default))


def _show_list(value: Iterable[Any]) -> str:
    return "`" + ",".join(str(item) for item in value) + "`"


INTEGER = Kind("integer", env_int, int, _show_number)
NUMBER = Kind("number", env_float, float, _show_number)
FLAG = Kind("on/off", env_bool, bool, lambda value: "on" if value else "off")
TEXT = Kind("text", env_str, show=lambda value: f"`{value}`" if value else "empty")
LIST = Kind("list", _read_list, list, _show_list)
ORIGIN = Kind("text", lambda name, default: env_str(name, default).rstrip("/"), show=TEXT.show)  # no trailing /
SECONDS, MINUTES, HOURS, DAYS = _duration("seconds"), _duration("minutes"), _duration("hours"), _duration("days")
# Currency codes: upper-cased, a tuple (an empty variable keeps the default).
CURRENCY_CODES = blank_is_default(
    Kind("list", lambda name, default: tuple(code.upper() for code in env_list(name, list(default))), tuple, _show_list)
)
# Days, comma-separated (`1,3,5`), as a list of durations.
DAYS_LIST = Kind(
    "days, comma-separated",
    lambda name, default: [timedelta(days=int(days)) for days in env_list(name, [str(d.days) for d in default])],
    list,
    lambda value: _show_list(delay.days for delay in value),
)


def _show_duration(value: timedelta) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, rest = divmod(value.total_seconds(), size)
        if count and not rest:
            return f"{count:g} {unit}{'s' if count != 1 else ''}"
    return str(value)


# A Django setting with no environment variable (a timedelta): only how its default is shown matters.
DURATION = Kind("duration", lambda name, default: default, show=_show_duration)


_SAME_AS_NAME = "="
_NO_PRODUCTION_DEFAULT = object()


@dataclass(frozen=True)
class Setting:
    name: str  # the Django setting
    kind: Kind
    default: Any
    doc: str  # one line: what it means
    env: str | None = _SAME_AS_NAME  # the environment variable that sets it (default: the name); None: none
    shown: str | None = None  # the default as the README shows it, where the value itself would mislead
    production_default: Any = _NO_PRODUCTION_DEFAULT  # the default when ATELIER_ENV=production, where it differs

    def __post_init__(self):
        if self.env == _SAME_AS_NAME:
            object.__setattr__(self, "env", self.name)

    def from_environment(self, *, production: bool = False) -> Any:
        default = self.default
        if production and self.production_default is not _NO_PRODUCTION_DEFAULT:
            default = self.production_default
        return default if self.env is None else self.kind.read(self.env, default)

    def default_shown(self) -> str:
        return self.shown if self.shown is not None else self.kind.show(self.default)


class Settings:
    """One app's declared settings, read by name at call time."""

    def __init__(self, *declared: Setting):
        self.declared: dict[str, Setting] = {setting.name: setting for setting in declared}
        if len(self.declared) != len(declared):
            raise ValueError("a setting is declared twice")

    def read(self, name: str, *, production: bool = False) -> Any:
        """The setting's value from the environment (for config/settings.py, once, at start)."""
        return self.declared[name].from_environment(production=production)

    def get(self, name: str) -> Any:
        setting = self.declared[name]  # a KeyError names a setting this app never declared
        return setting.kind.coerce(getattr(settings, name, setting.default))

    def __iter__(self):
        return iter(self.declared.values())


def environment_values(collections: Iterable[Settings], *, production: bool = False) -> Mapping[str, Any]:
    """Every declared setting's value: its environment variable's, else its default (for config/settings.py)."""
    return {
        setting.name: setting.from_environment(production=production)
        for collection in collections
        for setting in collection
    }
