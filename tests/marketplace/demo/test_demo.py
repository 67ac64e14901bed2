"""The first-start demo: trains a tiny model in the worker, generates, publishes, anchors, sells."""

import json

import pytest
import requests
from django.core.management import call_command

from marketplace.demo.models import DemoRun, DemoStep
from marketplace.demo.services import demo_advance
from provenance.chain.anvil import AnvilProcess


@pytest.fixture
def local_chain(settings):
    with AnvilProcess() as node:
        settings.CHAIN_RPC_URL, settings.CHAIN_ID, settings.CHAIN_CONFIRMATIONS = node.rpc_url, node.chain_id, 1
        yield node


def mine(node: AnvilProcess, blocks: int) -> None:
    requests.post(node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": [hex(blocks)]},
                  timeout=10)


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.django_db
def test_demo_trains_generates_publishes_anchors_and_sells(settings, local_chain, run_tasks, tmp_path, capsys):
    from marketplace.gallery.models import Artwork, Order
    from provenance.models import ProvenanceRecord
    from provenance.tasks import provenance_batch, provenance_confirm, provenance_send

    settings.VAR_DIR = tmp_path
    settings.DEMO_TRAINING_STEPS = 40
    call_command("chain_deploy")
    call_command("bootstrap_demo")
    printed = capsys.readouterr().out
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert set(credentials) == {"staff", "artist", "buyer"}
    assert all(account["password"] in printed for account in credentials.values())

    assert demo_advance() == DemoStep.TRAINING  # the worker has not trained yet
    run_tasks(queues="training")
    assert demo_advance() == DemoStep.GENERATING
    run_tasks(queues="generation")
    assert demo_advance() == DemoStep.DONE

    demo = DemoRun.objects.get()
    published = Artwork.objects.filter(state="published", artist=demo.artist)
    assert published.count() == 6 == len(demo.artworks)
    order = Order.objects.get(buyer=demo.buyer)
    assert (order.state, order.licence_type) == ("fulfilled", "exclusive")

    provenance_batch.call()
    provenance_send.call()
    mine(local_chain, 2)
    provenance_confirm.call()
    records = ProvenanceRecord.objects.filter(subject__startswith="gallery.artwork:")
    assert records.count() == 6
    assert set(records.values_list("state", flat=True)) == {"confirmed"}


@pytest.mark.django_db
def test_bootstrap_creates_demo_content_only_on_an_empty_database(settings, tmp_path, make_user, capsys):
    settings.VAR_DIR = tmp_path
    make_user(role="buyer")  # not a first start
    call_command("bootstrap_demo")
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert set(credentials) == {"staff"}
    assert not DemoRun.objects.exists()
    call_command("bootstrap_demo")  # idempotent: the same staff account, printed again
    assert json.loads((tmp_path / "demo-credentials.json").read_text()) == credentials
    assert credentials["staff"]["password"] in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_records_a_failed_training_run_and_stops(settings, tmp_path):
    from generation.models import TrainingRun

    settings.VAR_DIR = tmp_path
    call_command("bootstrap_demo")
    TrainingRun.objects.update(state="failed", last_error="out of memory")
    assert demo_advance() == DemoStep.FAILED
    assert "out of memory" in DemoRun.objects.get().detail
    assert demo_advance() == "idle"
