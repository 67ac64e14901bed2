"""The first-start demo: generates from the shipped model at once (or from a fresh run), publishes, anchors,
sells; the fresh training run shows the pipeline beside it."""

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
    requests.post(
        node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": [hex(blocks)]}, timeout=10
    )


def _anchor_all(node: AnvilProcess) -> None:
    from provenance.tasks import provenance_batch, provenance_confirm, provenance_send

    provenance_batch.call()
    provenance_send.call()
    mine(node, 2)
    provenance_confirm.call()


def _assert_published_sold_and_anchored(node: AnvilProcess) -> None:
    from marketplace.gallery.models import Artwork, Order
    from provenance.models import ProvenanceRecord

    demo = DemoRun.objects.get()
    published = Artwork.objects.filter(state="published", artist=demo.artist)
    assert published.count() == 6 == len(demo.artworks)
    order = Order.objects.get(buyer=demo.buyer)
    assert (order.state, order.licence_type) == ("fulfilled", "exclusive")
    _anchor_all(node)
    records = ProvenanceRecord.objects.filter(subject__startswith="gallery.artwork:")
    assert records.count() == 6
    assert set(records.values_list("state", flat=True)) == {"confirmed"}


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.django_db
def test_demo_publishes_from_the_shipped_model_before_anything_trains(
    settings, local_chain, run_tasks, tmp_path, capsys
):
    from generation.demo import load_demo_model
    from generation.models import ModelVersion, TrainingRun

    settings.VAR_DIR = tmp_path
    settings.DEMO_TRAINING_STEPS = 40
    call_command("chain_deploy")
    call_command("bootstrap_demo")
    printed = capsys.readouterr().out
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert set(credentials) == {"staff", "artist", "buyer"}
    assert all(account["password"] in printed for account in credentials.values())

    shipped = ModelVersion.objects.get()
    assert shipped.onnx_sha256 == load_demo_model().sha256
    assert shipped.dataset_hash == shipped.training_run.dataset.dataset_hash  # lineage: trained on these images
    assert shipped.training_run.plan["imported"]["onnx_sha256"] == shipped.onnx_sha256
    fresh = TrainingRun.objects.exclude(pk=shipped.training_run_id).get()
    assert fresh.state == "queued"  # the pipeline's own run waits for the training pool

    assert demo_advance() == DemoStep.GENERATING  # no training needed first
    run_tasks(queues="generation")
    assert demo_advance() == DemoStep.DONE
    assert TrainingRun.objects.get(pk=fresh.pk).state == "queued"  # art came before any training
    _assert_published_sold_and_anchored(local_chain)

    run_tasks(queues="training")  # and the fresh run still trains, into a second model version
    assert TrainingRun.objects.get(pk=fresh.pk).state == "succeeded"
    assert ModelVersion.objects.count() == 2


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.django_db
def test_without_the_shipped_model_the_demo_trains_then_generates(settings, local_chain, run_tasks, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEMO_TRAINING_STEPS = 40
    settings.DEMO_SHIPPED_MODEL = False
    call_command("chain_deploy")
    call_command("bootstrap_demo")
    assert demo_advance() == DemoStep.TRAINING  # the worker has not trained yet
    run_tasks(queues="training")
    assert demo_advance() == DemoStep.GENERATING
    run_tasks(queues="generation")
    assert demo_advance() == DemoStep.DONE
    _assert_published_sold_and_anchored(local_chain)


@pytest.mark.django_db
def test_a_corrupt_shipped_model_falls_back_to_training(settings, tmp_path, monkeypatch, caplog):
    from generation import demo as demo_model
    from generation.models import ModelVersion

    corrupt = tmp_path / "model.onnx"
    corrupt.write_bytes(demo_model.MODEL_FILE.read_bytes()[:-1] + b"x")
    monkeypatch.setattr(demo_model, "MODEL_FILE", corrupt)
    settings.VAR_DIR = tmp_path
    call_command("bootstrap_demo")
    assert not ModelVersion.objects.exists()
    assert DemoRun.objects.get().step == DemoStep.TRAINING
    assert "shipped model cannot be used" in caplog.text


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
    settings.DEMO_SHIPPED_MODEL = False
    call_command("bootstrap_demo")
    TrainingRun.objects.update(state="failed", last_error="out of memory")
    assert demo_advance() == DemoStep.FAILED
    assert "out of memory" in DemoRun.objects.get().detail
    assert demo_advance() == "idle"
