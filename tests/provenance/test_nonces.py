"""Nonces come from a locked database row: consumed only with a stored signed transaction, never reused,
never skipped, even with several workers sending at once."""

import threading

import pytest
from django.db import connection, transaction

from provenance.connection import chain_connect
from provenance.models import ChainTransaction, SenderNonce, TxKind, TxState
from provenance.nonces import DatabaseNonceAllocator
from provenance.services import (
    batches_build,
    deployment_ensure,
    record_register,
    transactions_send,
)

SENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.mark.django_db(transaction=True)
def test_allocation_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        DatabaseNonceAllocator(chain_id=1).allocate(SENDER)


@pytest.mark.django_db
def test_a_rolled_back_allocation_gives_the_nonce_back():
    allocator = DatabaseNonceAllocator(chain_id=1, chain_floor={SENDER: 7})
    with pytest.raises(RuntimeError), transaction.atomic():
        assert allocator.allocate(SENDER) == 7
        raise RuntimeError("signing or storing failed")
    with transaction.atomic():
        assert allocator.allocate(SENDER) == 7
        assert allocator.allocate(SENDER) == 8
    assert SenderNonce.objects.get().next_nonce == 9


@pytest.mark.django_db
def test_the_chains_count_lifts_the_next_nonce_but_never_lowers_it():
    with transaction.atomic():
        assert DatabaseNonceAllocator(chain_id=1, chain_floor={SENDER: 3}).allocate(SENDER) == 3
    with transaction.atomic():  # the key was used elsewhere: the node counts 10
        assert DatabaseNonceAllocator(chain_id=1, chain_floor={SENDER: 10}).allocate(SENDER) == 10
    with transaction.atomic():  # a stale, lower count from the node changes nothing
        assert DatabaseNonceAllocator(chain_id=1, chain_floor={SENDER: 2}).allocate(SENDER) == 11


@pytest.mark.django_db
def test_release_gives_back_only_the_latest_allocation():
    allocator = DatabaseNonceAllocator(chain_id=1)
    with transaction.atomic():
        first, second = allocator.allocate(SENDER), allocator.allocate(SENDER)
        with pytest.raises(ValueError):
            allocator.release(SENDER, first)
        allocator.release(SENDER, second)
        assert allocator.allocate(SENDER) == second


@pytest.mark.postgres
@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_use_unique_gap_free_nonces(chain_settings):
    chain_settings.PROVENANCE_BATCH_MAX = 1
    deployment = deployment_ensure(chain=chain_connect()).deployment
    for index in range(30):
        record_register(
            content_sha256=f"{index + 1:064x}",
            pdq="ab" * 32,
            pdq_quality=100,
            subject=f"s:{index}",
            creator="c",
            owner="o",
        )
    assert len(batches_build()) == 30
    barrier, results, errors = threading.Barrier(2), [], []

    def worker() -> None:
        try:
            chain = chain_connect()
            barrier.wait()
            results.append(transactions_send(chain=chain))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(r["signed"] for r in results) == 30
    assert all(r["signed"] for r in results)  # both really signed, taking turns on the nonce row
    anchors = ChainTransaction.objects.filter(kind=TxKind.ANCHOR_BATCH)
    assert set(anchors.values_list("state", flat=True)) == {TxState.SENT}
    nonces = sorted(anchors.values_list("nonce", flat=True))
    first = deployment.transaction.nonce + 1
    assert nonces == list(range(first, first + 30))  # unique and without a gap
    assert chain_connect().nonce(block="latest") == first + 30  # every one of them was mined
    # signed in creation order: the outbox row created first holds the lower nonce
    assert list(anchors.order_by("id").values_list("nonce", flat=True)) == nonces
