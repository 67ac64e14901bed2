"""EIP-1559 fee suggestion and replacement bumps."""

from dataclasses import dataclass

from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import TxParams, Wei

from provenance.chain.errors import FeeCeilingExceeded

GWEI = 10**9
DEFAULT_BASE_FEE_MARGIN = 2  # survives six consecutive full blocks (+12.5% each) before the tx is underpriced
DEFAULT_PRIORITY_FEE_FLOOR_WEI = GWEI // 100
# geth and anvil refuse a replacement that raises either fee by less than 10%; some pools ask 12.5%.
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8


@dataclass(frozen=True, slots=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def __post_init__(self) -> None:
        if self.max_priority_fee_per_gas < 0 or self.max_fee_per_gas < self.max_priority_fee_per_gas:
            raise ValueError(f"inconsistent fees: {self}")

    def as_tx_fields(self) -> TxParams:
        return {"maxFeePerGas": Wei(self.max_fee_per_gas), "maxPriorityFeePerGas": Wei(self.max_priority_fee_per_gas)}


def suggest_fees(
    w3: Web3,
    *,
    base_fee_margin: int = DEFAULT_BASE_FEE_MARGIN,
    priority_fee_floor_wei: int = DEFAULT_PRIORITY_FEE_FLOOR_WEI,
    ceiling_wei: int | None = None,
) -> Fees:
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas") or 0)
    try:
        suggested_priority = int(w3.eth.max_priority_fee)
    except (Web3Exception, ValueError):
        suggested_priority = 0
    priority = max(suggested_priority, priority_fee_floor_wei)
    fees = Fees(max_fee_per_gas=base_fee * base_fee_margin + priority, max_priority_fee_per_gas=priority)
    if ceiling_wei is not None and fees.max_fee_per_gas > ceiling_wei:
        raise FeeCeilingExceeded(
            f"suggested max fee {fees.max_fee_per_gas} wei/gas is above the ceiling of {ceiling_wei} wei/gas"
        )
    return fees


def _bumped(value: int) -> int:
    return max(-(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR), value + 1)


def bump_fees(old: Fees, *, ceiling: int, at_least: Fees | None = None) -> Fees:
    """Raise both fees by at least 12.5% (rounded up); `at_least` lifts them further to current network
    fees. Refuses when the new max fee would exceed `ceiling` (wei per gas)."""
    priority = _bumped(old.max_priority_fee_per_gas)
    max_fee = _bumped(old.max_fee_per_gas)
    if at_least is not None:
        priority = max(priority, at_least.max_priority_fee_per_gas)
        max_fee = max(max_fee, at_least.max_fee_per_gas)
    max_fee = max(max_fee, priority)
    if max_fee > ceiling:
        raise FeeCeilingExceeded(
            f"bumping max fee {old.max_fee_per_gas} -> {max_fee} wei/gas would exceed the ceiling of {ceiling}"
        )
    return Fees(max_fee_per_gas=max_fee, max_priority_fee_per_gas=priority)
