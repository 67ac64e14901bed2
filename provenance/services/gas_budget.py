"""The daily gas budget and its circuit breaker: what the signer may commit to spend per UTC day.

Spend is counted at what a transaction can cost at most (gas limit x max fee per gas) for every transaction
signed in the current window, lost ones excepted (their nonce went to another transaction, so they cost
nothing); an upper bound, so the breaker trips early rather than late. The window starts at UTC midnight, or at
a staff reset if that is later. When the next transaction would pass the budget the breaker opens: the sender
signs nothing new (PENDING outbox rows wait; signed ones are still broadcast and confirmed), the trip is logged
at ERROR once, `atelier_chain_gas_breaker_open` reads 1 and the staff dashboard shows it with a reset button."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from provenance import conf
from provenance.locks import lock_gas_breaker
from provenance.models import ChainTransaction, GasBreaker, TxState
from provenance.services.batching import enqueue_sender

logger = logging.getLogger("atelier.provenance")


@dataclass(frozen=True)
class GasBudget:
    chain_id: int
    budget_wei: int  # 0: no cap
    spent_wei: int
    window_start: datetime
    open: bool
    tripped_at: datetime | None
    reset_at: datetime | None

    @property
    def remaining_wei(self) -> int | None:
        return None if not self.budget_wei else max(self.budget_wei - self.spent_wei, 0)


def _window_start(breaker: GasBreaker | None, now: datetime) -> datetime:
    midnight = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    if breaker is not None and breaker.reset_at is not None and breaker.reset_at > midnight:
        return breaker.reset_at
    return midnight


def gas_spent(*, chain_id: int, since: datetime) -> int:
    rows = (
        ChainTransaction.objects.filter(chain_id=chain_id, signed_at__gte=since)
        .exclude(state=TxState.LOST)
        .values_list("gas", "max_fee_per_gas")
    )
    return sum((gas or 0) * (fee or 0) for gas, fee in rows)


def gas_budget_status(*, chain_id: int, now: datetime | None = None) -> GasBudget:
    now = now or timezone.now()
    breaker = GasBreaker.objects.filter(chain_id=chain_id).first()
    start = _window_start(breaker, now)
    tripped_at = breaker.tripped_at if breaker else None
    return GasBudget(
        chain_id=chain_id,
        budget_wei=int(conf.get("CHAIN_DAILY_GAS_BUDGET_WEI") or 0),
        spent_wei=gas_spent(chain_id=chain_id, since=start),
        window_start=start,
        open=tripped_at is not None and tripped_at >= start,
        tripped_at=tripped_at,
        reset_at=breaker.reset_at if breaker else None,
    )


def gas_budget_allows(*, chain_id: int, cost_wei: int, now: datetime | None = None) -> bool:
    """May the sender sign a transaction that costs at most `cost_wei`? Call it under the sender's nonce lock
    (signing is serialised there, so concurrent senders cannot both spend the last of the budget). A no opens
    the breaker, once per window."""
    now = now or timezone.now()
    status = gas_budget_status(chain_id=chain_id, now=now)
    if status.open:
        return False
    if not status.budget_wei or status.spent_wei + cost_wei <= status.budget_wei:
        return True
    with transaction.atomic():
        breaker = lock_gas_breaker(chain_id=chain_id)
        if breaker.tripped_at is None or breaker.tripped_at < status.window_start:
            breaker.tripped_at, breaker.tripped_spent_wei = now, Decimal(status.spent_wei)
            breaker.save()
            logger.error(
                "gas budget exhausted on chain %s: %s wei committed since %s, the next transaction needs up to %s "
                "of a %s wei budget; sending stops until the next UTC day or a staff reset",
                chain_id,
                status.spent_wei,
                status.window_start.isoformat(),
                cost_wei,
                status.budget_wei,
            )
    return False


def gas_breaker_reset(*, chain_id: int, actor: str) -> GasBudget:
    """Staff: close the breaker and start a fresh budget window now (today's spend so far is forgiven)."""
    now = timezone.now()
    with transaction.atomic():
        breaker = lock_gas_breaker(chain_id=chain_id)
        breaker.reset_at, breaker.reset_by = now, actor[:255]
        breaker.save()
    logger.warning("gas breaker of chain %s reset by %s", chain_id, actor)
    transaction.on_commit(enqueue_sender)
    return gas_budget_status(chain_id=chain_id, now=now)
