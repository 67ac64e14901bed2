"""The metering hook: generation asks "may this user spend N generations / one training run?".

Generation calls `get_meter()` and never knows who answers. The default allows everything; the subscriptions
app plugs plan quotas in with `GENERATION_METER = "marketplace.subscriptions.metering.SubscriptionMeter"`.

Contract for implementations:
- `consume` runs inside the caller's transaction (so a job that fails to be created consumes nothing), must be
  atomic under concurrency (a row lock), and raises `core.errors.QuotaExceeded` (429) or
  `core.errors.PaymentRequired` (402) with `remaining` and `resets_at` in the error's extra fields.
- `refund` gives back units a cancelled or failed job did not use; refunding the same reference twice is a
  no-op (idempotent by `reference`).
- `limits` returns the caps of the user's plan (None = no cap), training's cost ceiling included.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

GENERATION = "generation"
TRAINING = "training"


@dataclass(frozen=True)
class Limits:
    max_resolution: int | None = None
    max_dataset_images: int | None = None
    max_dataset_bytes: int | None = None
    # Training cost ceiling: wall-clock minutes a run may train, and its work (steps x batch x resolution^2 x
    # the wider network's channels, `generation.services.planning.training_work`).
    max_training_minutes: float | None = None
    max_training_work: int | None = None


class Meter(Protocol):
    def consume(self, *, user: Any, kind: str, units: int, reference: str) -> None: ...

    def refund(self, *, user: Any, kind: str, units: int, reference: str) -> None: ...

    def limits(self, *, user: Any) -> Limits: ...


class AllowAllMeter:
    """The default: no quotas, no caps."""

    def consume(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        return None

    def refund(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        return None

    def limits(self, *, user: Any) -> Limits:
        return Limits()


@cache
def _meter_class(path: str) -> type:
    return import_string(path)


def get_meter() -> Meter:
    return _meter_class(settings.GENERATION_METER)()
