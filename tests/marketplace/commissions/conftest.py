"""Fixtures for the commissions tests: private media per test, a client and artists with real tokens, an API
key made through the API, a brief already awarded, and (reused from tests/generation) a really exported model."""

from pathlib import Path

import pytest

from tests.generation.factories import TINY_CONFIG, install_model_version
from tests.marketplace.commissions.helpers import accept, offer, post_brief


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    return tmp_path / "media"


@pytest.fixture
def client_user(make_user):
    return make_user(role="buyer", display_name="Client")


@pytest.fixture
def client_api(client_for, client_user):
    return client_for(client_user)


@pytest.fixture
def other_artist(make_user):
    return make_user(role="artist", display_name="Other artist")


@pytest.fixture
def other_artist_api(client_for, other_artist):
    return client_for(other_artist)


@pytest.fixture
def brief(client_api) -> dict:
    response = post_brief(client_api)
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def awarded(client_api, artist_client, brief) -> dict:
    """A brief with the artist's offer (5000 USD cents, 1 revision) accepted and paid."""
    sent = offer(artist_client, brief["id"], price=5000, revisions=1)
    assert sent.status_code == 201, sent.json()
    response = accept(client_api, sent.json()["id"])
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture(scope="session")
def exported_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, parity-checked export of a 2-step 32px generator, built as tests/generation builds its own."""
    import torch

    from generation.gan.config import GANConfig
    from generation.gan.data import prepare_dataset, write_toy_dataset
    from generation.gan.export import export_generator
    from generation.gan.trainer import Trainer

    folder = tmp_path_factory.mktemp("commission-model")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = write_toy_dataset(out_dir=folder / "data", classes=2, per_class=4, resolution=32, seed=3)
        prepared = prepare_dataset(image_dir=data, resolution=32)
        config = GANConfig.from_dict({**TINY_CONFIG, "steps": 2, "conditional": False, "num_classes": 1})
        trainer = Trainer(config=config, dataset=prepared, device="cpu", out_dir=None)
        trainer.run()
        out = folder / "model.onnx"
        export_generator(generator=trainer.generator_ema, config=config, out_path=out, step=trainer.step,
                         dataset_hash=trainer.dataset_hash, class_names=trainer.class_names)
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture
def model_of(db, exported_onnx: Path):
    """`model_of(user)`: a model version owned by `user`, backed by the real exported ONNX file."""
    from generation import runtime

    runtime.clear_caches()

    def make(owner):
        return install_model_version(owner=owner, onnx_path=exported_onnx)

    return make
