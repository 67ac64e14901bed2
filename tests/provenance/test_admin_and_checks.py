"""Operators: admin lists with the chain status header, re-anchor / re-send actions; the start-up key check."""

import subprocess
import sys

import pytest
from eth_account import Account

from provenance.apps import signing_key_check
from provenance.chain.anvil import free_port
from provenance.chain.signer import ANVIL_DEV_PRIVATE_KEY
from provenance.models import AnchorBatch, AnchorState, ChainTransaction, TxState
from provenance.services import batch_build
from tests.helpers import REPO


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(role="staff"))
    return client


@pytest.mark.django_db
def test_admin_lists_records_batches_and_transactions_with_the_chain_status(staff_client, register_image, settings):
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    register_image(1)
    batch_build()
    for url in (
        "/admin/provenance/provenancerecord/",
        "/admin/provenance/ownershipevent/",
        "/admin/provenance/chaindeployment/",
        "/admin/provenance/sendernonce/",
    ):
        assert staff_client.get(url).status_code == 200
    for url in ("/admin/provenance/anchorbatch/", "/admin/provenance/chaintransaction/"):
        page = staff_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Chain status" in html and "unreachable" in html and "Pending records" in html


@pytest.mark.chain
@pytest.mark.django_db
def test_admin_status_shows_the_reachable_node_and_the_sender_balance(staff_client, chain_settings):
    html = staff_client.get("/admin/provenance/anchorbatch/").content.decode()
    assert "reachable, block" in html and "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, balance" in html


@pytest.mark.django_db
def test_reanchor_action_requeues_a_failed_batch_and_refuses_a_healthy_one(staff_client, register_image):
    register_image(1)
    failed = batch_build()
    ChainTransaction.objects.filter(pk=failed.transaction_id).update(state=TxState.FAILED)
    AnchorBatch.objects.filter(pk=failed.pk).update(state=AnchorState.FAILED)
    register_image(2)
    healthy = batch_build()
    response = staff_client.post(
        "/admin/provenance/anchorbatch/",
        {"action": "reanchor", "_selected_action": [failed.pk, healthy.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.state == AnchorState.PENDING and failed.transaction.state == TxState.PENDING
    assert healthy.transaction_id == AnchorBatch.objects.get(pk=healthy.pk).transaction_id
    assert "Cannot re-anchor" in response.content.decode()


@pytest.mark.chain
@pytest.mark.django_db
def test_resend_action_broadcasts_the_stored_bytes(staff_client, chain_settings, register_image, monkeypatch):
    from provenance.connection import chain_connect
    from provenance.services import deployment_ensure, outbox, transactions_send

    deployment_ensure(chain=chain_connect())
    register_image(1)
    batch_build()
    monkeypatch.setattr(outbox, "broadcast", lambda w3, raw: (_ for _ in ()).throw(OSError("node down")))
    with pytest.raises(OSError):
        transactions_send(chain=chain_connect())
    monkeypatch.undo()
    tx = ChainTransaction.objects.get(kind="anchor_batch", state=TxState.SIGNED)
    staff_client.post("/admin/provenance/chaintransaction/", {"action": "resend", "_selected_action": [tx.pk]})
    tx.refresh_from_db()
    assert tx.state == TxState.SENT and tx.attempts == 1


def test_signing_key_check_refuses_the_public_dev_key_or_no_key_off_anvil(settings):
    settings.CHAIN_ID, settings.CHAIN_PRIVATE_KEY = 31337, ""
    assert signing_key_check() == []
    settings.CHAIN_ID = 11155111
    assert [e.id for e in signing_key_check()] == ["provenance.E001"]
    settings.CHAIN_PRIVATE_KEY = ANVIL_DEV_PRIVATE_KEY
    assert "public development key" in signing_key_check()[0].msg
    settings.CHAIN_PRIVATE_KEY = "0x1234"
    assert "not a valid private key" in signing_key_check()[0].msg
    settings.CHAIN_PRIVATE_KEY = Account.create().key.hex()
    assert signing_key_check() == []


def test_manage_py_refuses_to_start_without_a_key_on_a_real_chain(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ATELIER_VAR_DIR": str(tmp_path),
        "CHAIN_ID": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "no signing key configured for chain 1" in result.stderr
