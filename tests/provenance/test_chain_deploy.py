"""manage.py chain_deploy: once per chain, remembered, deployed again (and said so) after a chain reset."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from provenance.chain.anvil import free_port
from provenance.connection import chain_connect
from provenance.models import ChainDeployment, ChainTransaction, TxKind

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def deploy() -> str:
    out = io.StringIO()
    call_command("chain_deploy", stdout=out)
    return out.getvalue()


def test_deploys_once_and_remembers_the_address(chain_settings):
    first = deploy()
    deployment = ChainDeployment.objects.get()
    assert f"Deployed ProvenanceRegistry on chain 31337 at {deployment.registry_address}" in first
    assert chain_connect().has_code(deployment.registry_address)
    second = deploy()
    assert "already deployed" in second and deployment.registry_address in second
    assert ChainDeployment.objects.count() == 1
    assert ChainTransaction.objects.filter(kind=TxKind.DEPLOY).count() == 1


def test_deploys_again_and_says_so_when_the_chain_was_reset(own_anvil):
    deploy()
    old = ChainDeployment.objects.get().registry_address
    own_anvil.kill()
    own_anvil.state_path.unlink(missing_ok=True)
    own_anvil.start()
    message = deploy()
    assert f"The remembered registry {old} has no code" in message and "deployed again" in message
    deployment = ChainDeployment.objects.get()
    assert deployment.redeployments == 1 and chain_connect().has_code(deployment.registry_address)


def test_an_unreachable_node_is_a_clear_error(settings):
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="unavailable"):
        deploy()
    assert not ChainDeployment.objects.exists()


def test_a_missing_signing_key_off_anvil_is_refused(chain_settings):
    chain_settings.CHAIN_ID = 5
    with pytest.raises(CommandError, match="no signing key configured for chain 5"):
        deploy()
