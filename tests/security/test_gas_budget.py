"""Finding 6: the signer's gas cannot be drained. A daily gas budget with a circuit breaker (stop signing,
alert staff, keep the outbox, resume the next day or on a staff reset), and ownership transfers batched into
one call. Against a real anvil."""

import logging
from datetime import timedelta

import pytest

from provenance.chain.registry import ProvenanceRegistry
from provenance.connection import chain_connect
from provenance.models import (
    AnchorState,
    ChainDeployment,
    ChainTransaction,
    GasBreaker,
    OwnershipEvent,
    TxKind,
    TxState,
)
from provenance.proofs.encoding import reference_hash
from provenance.services import gas_budget_status, ownership_transfer

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def _metric(client, name: str) -> float:
    for line in client.get("/metrics").content.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_the_breaker_stops_signing_at_the_budget_keeps_the_outbox_and_alerts(
    chain_settings, register_image, run_chain, make_user, client, caplog
):
    register_image(1)
    run_chain("batch")
    first = ChainTransaction.objects.get(kind=TxKind.ANCHOR_BATCH)
    assert first.state == TxState.SENT
    # room for the one already signed and half another: the next anchor does not fit
    chain_settings.CHAIN_DAILY_GAS_BUDGET_WEI = int(first.gas * first.max_fee_per_gas * 1.5)

    register_image(2)
    with caplog.at_level(logging.ERROR, logger="atelier.provenance"):
        run_chain("batch")
        run_chain("send")
    held = ChainTransaction.objects.exclude(pk=first.pk).get(kind=TxKind.ANCHOR_BATCH)
    assert held.state == TxState.PENDING and not held.raw and held.nonce is None  # kept, unsigned
    assert gas_budget_status(chain_id=chain_settings.CHAIN_ID).open
    assert sum("gas budget exhausted" in r.getMessage() for r in caplog.records) == 1  # once, not per pass

    staff = make_user(role="staff")
    client.force_login(staff)
    assert _metric(client, "atelier_chain_gas_breaker_open") == 1
    page = client.get("/dashboard/").content.decode()
    assert "exhausted: sending stopped" in page and 'id="gas-breaker-reset"' in page

    # a staff reset opens a fresh window: the held row is signed and sent
    response = client.post("/dashboard/gas-breaker/reset/")
    assert response.status_code == 302
    run_chain("send")
    held.refresh_from_db()
    assert held.state == TxState.SENT
    assert _metric(client, "atelier_chain_gas_breaker_open") == 0
    assert GasBreaker.objects.get().reset_by == f"staff:{staff.email}"


def test_the_breaker_closes_by_itself_the_next_day(chain_settings, register_image, run_chain):
    register_image(1)
    run_chain("batch")
    first = ChainTransaction.objects.get(kind=TxKind.ANCHOR_BATCH)
    chain_settings.CHAIN_DAILY_GAS_BUDGET_WEI = first.gas * first.max_fee_per_gas  # exactly spent
    register_image(2)
    run_chain("batch")
    held = ChainTransaction.objects.exclude(pk=first.pk).get(kind=TxKind.ANCHOR_BATCH)
    assert held.state == TxState.PENDING and gas_budget_status(chain_id=chain_settings.CHAIN_ID).open

    # a day later: yesterday's spend and yesterday's trip are outside today's window
    day = timedelta(days=1)
    for tx in ChainTransaction.objects.exclude(signed_at=None):  # the registry's deployment and the anchor
        ChainTransaction.objects.filter(pk=tx.pk).update(signed_at=tx.signed_at - day)
    GasBreaker.objects.update(tripped_at=GasBreaker.objects.get().tripped_at - day)
    run_chain("send")
    held.refresh_from_db()
    assert held.state == TxState.SENT


def test_resetting_the_budget_needs_the_permission(chain_settings, make_user, client):
    from marketplace.accounts.models import User

    clerk = User.objects.create_user(email="clerk@example.com", password="x" * 12, role="buyer", is_staff=True)
    client.force_login(clerk)
    assert client.post("/dashboard/gas-breaker/reset/").status_code == 403
    assert not GasBreaker.objects.exists()
    assert client.get("/dashboard/gas-breaker/reset/").status_code == 405


def test_pending_transfers_are_sent_as_one_transaction_in_order(chain_settings, register_image, run_chain, anvil_mine):
    records = [register_image(seed, owner="a")[0] for seed in range(3)]
    run_chain("batch")
    moves = [(records[0], "a", "b"), (records[1], "a", "c"), (records[0], "b", "d"), (records[2], "a", "e")]
    for index, (record, src, dst) in enumerate(moves):
        ownership_transfer(content_sha256=record.content_sha256, from_ref=src, to_ref=dst, reference=f"o{index}")
    assert ChainTransaction.objects.filter(kind=TxKind.RECORD_TRANSFER, state=TxState.PENDING).count() == 4

    run_chain("send")
    sent = ChainTransaction.objects.get(kind=TxKind.RECORD_TRANSFER, state=TxState.SENT)
    assert (
        ChainTransaction.objects.filter(kind=TxKind.RECORD_TRANSFER, state=TxState.MERGED, replaced_by=sent).count()
        == 3
    )
    assert [(t["from_ref"], t["to_ref"]) for t in sent.payload["transfers"]] == [(s, d) for _, s, d in moves]
    assert set(OwnershipEvent.objects.values_list("transaction", flat=True)) == {sent.pk}

    anvil_mine(2)
    run_chain("confirm")
    assert set(OwnershipEvent.objects.values_list("state", flat=True)) == {AnchorState.CONFIRMED}
    chain = chain_connect()
    registry = ProvenanceRegistry(chain.w3, ChainDeployment.objects.get().registry_address)
    owners = [registry.current_owner(bytes.fromhex(r.content_sha256)) for r in records]
    assert owners == [reference_hash("d"), reference_hash("c"), reference_hash("e")]


def test_one_transfer_per_call_when_batching_is_off(chain_settings, register_image, run_chain):
    """PROVENANCE_TRANSFER_BATCH_MAX=1: the old record_transfer call, for a registry deployed before."""
    chain_settings.PROVENANCE_TRANSFER_BATCH_MAX = 1
    records = [register_image(seed, owner="a")[0] for seed in range(2)]
    run_chain("batch")
    for index, record in enumerate(records):
        ownership_transfer(content_sha256=record.content_sha256, from_ref="a", to_ref="b", reference=f"p{index}")
    run_chain("send")
    sent = ChainTransaction.objects.filter(kind=TxKind.RECORD_TRANSFER, state=TxState.SENT)
    assert sent.count() == 2 and all("transfers" not in tx.payload for tx in sent)
