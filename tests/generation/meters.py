"""A real metering implementation for tests: a per-user balance, idempotent refunds, configurable plan caps.

`get_meter()` builds a new instance per call, so the state lives on the class; `reset()` clears it.
"""

from typing import Any, ClassVar

from core.errors import QuotaExceeded
from generation.metering import Limits


class RecordingMeter:
    calls: ClassVar[list[tuple[str, str, int, str]]] = []  # (op, kind, units, reference)
    balance: ClassVar[dict[str, int]] = {}  # kind -> units left (absent: unlimited)
    refunded_references: ClassVar[set[str]] = set()
    plan: ClassVar[Limits] = Limits()

    @classmethod
    def reset(cls, *, balance: dict[str, int] | None = None, plan: Limits | None = None) -> None:
        cls.calls, cls.balance, cls.refunded_references = [], dict(balance or {}), set()
        cls.plan = plan or Limits()

    def consume(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        left = self.balance.get(kind)
        if left is not None and left < units:
            raise QuotaExceeded(f"Only {left} {kind} units left.", remaining=left, resets_at=None)
        if left is not None:
            type(self).balance[kind] = left - units
        type(self).calls.append(("consume", kind, units, reference))

    def refund(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        if reference in self.refunded_references:
            return
        type(self).refunded_references.add(reference)
        if kind in self.balance:
            type(self).balance[kind] += units
        type(self).calls.append(("refund", kind, units, reference))

    def limits(self, *, user: Any) -> Limits:
        return self.plan

    @classmethod
    def total(cls, op: str, kind: str, reference: str | None = None) -> int:
        return sum(units for o, k, units, ref in cls.calls if o == op and k == kind and reference in (None, ref))
