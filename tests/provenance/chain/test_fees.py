import pytest
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from provenance.chain.errors import FeeCeilingExceeded
from provenance.chain.fees import Fees, bump_fees, suggest_fees

GWEI = 10**9


@given(priority=st.integers(0, 10**12), extra=st.integers(0, 10**13))
def test_bump_raises_both_fees_by_at_least_an_eighth(priority: int, extra: int):
    old = Fees(max_fee_per_gas=priority + extra, max_priority_fee_per_gas=priority)
    new = bump_fees(old, ceiling=10**15)
    assert new.max_priority_fee_per_gas * 8 >= old.max_priority_fee_per_gas * 9
    assert new.max_fee_per_gas * 8 >= old.max_fee_per_gas * 9
    assert new.max_priority_fee_per_gas > old.max_priority_fee_per_gas
    assert new.max_fee_per_gas > old.max_fee_per_gas
    assert new.max_fee_per_gas >= new.max_priority_fee_per_gas


def test_bump_of_small_fees_rounds_up():
    assert bump_fees(Fees(max_fee_per_gas=9, max_priority_fee_per_gas=1), ceiling=100) == Fees(
        max_fee_per_gas=11, max_priority_fee_per_gas=2
    )


def test_bump_above_the_ceiling_is_refused():
    old = Fees(max_fee_per_gas=100 * GWEI, max_priority_fee_per_gas=2 * GWEI)
    assert bump_fees(old, ceiling=113 * GWEI).max_fee_per_gas == 112_500_000_000
    with pytest.raises(FeeCeilingExceeded, match="ceiling"):
        bump_fees(old, ceiling=112 * GWEI)


def test_bump_follows_the_network_when_it_moved_further():
    old = Fees(max_fee_per_gas=10, max_priority_fee_per_gas=1)
    network = Fees(max_fee_per_gas=50, max_priority_fee_per_gas=5)
    assert bump_fees(old, ceiling=100, at_least=network) == network


def test_fees_must_be_consistent():
    with pytest.raises(ValueError):
        Fees(max_fee_per_gas=1, max_priority_fee_per_gas=2)


@pytest.mark.chain
def test_suggested_fees_cover_base_fee_with_margin_plus_priority(w3: Web3):
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    fees = suggest_fees(w3, base_fee_margin=2, priority_fee_floor_wei=3 * GWEI)
    assert fees.max_priority_fee_per_gas == 3 * GWEI  # the floor wins over anvil's 1 gwei suggestion
    assert fees.max_fee_per_gas == 2 * base_fee + 3 * GWEI
    with pytest.raises(FeeCeilingExceeded):
        suggest_fees(w3, ceiling_wei=fees.max_fee_per_gas - 1, priority_fee_floor_wei=3 * GWEI)
