import numpy as np
import pytest

from generation.gan.config import GANConfig
from generation.gan.export import export_generator
from generation.gan.networks import build_generator
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import (
    CPU,
    active_providers,
    batch_workers,
    cpu_workers,
    make_session,
    run_generator,
    run_generator_float,
)


@pytest.fixture(scope="module")
def model_paths(tmp_path_factory):
    paths = {}
    for conditional in (False, True):
        config = GANConfig(
            resolution=32,
            latent_dim=8,
            g_channels=4,
            conditional=conditional,
            num_classes=2 if conditional else 1,
        )
        paths[conditional] = export_generator(
            generator=build_generator(config),
            config=config,
            out_path=tmp_path_factory.mktemp("models") / "model.onnx",
            step=0,
            dataset_hash="0" * 64,
            class_names=("a", "b"),
        ).path
    return paths


def test_session_runs_on_the_cpu_provider(model_paths):
    session = make_session(model_paths[False], providers=[CPU], intra_op_threads=1)
    assert active_providers(session) == [CPU]


def test_run_generator_returns_uint8_nhwc_images(model_paths):
    session = make_session(model_paths[False])
    images = run_generator(session, latents_for_seeds(range(3), 8))
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    assert len(np.unique(images)) > 1


def test_an_images_pixels_do_not_depend_on_the_batch_it_was_drawn_in(model_paths):
    session = make_session(model_paths[True])
    z = latents_for_seeds(range(64), 8)
    labels = np.arange(64, dtype=np.int64) % 2
    together = run_generator_float(session, z, labels)
    one_by_one = np.concatenate([run_generator_float(session, z[i : i + 1], labels[i : i + 1]) for i in range(64)])
    assert np.array_equal(together, one_by_one)


def test_conditional_model_requires_labels_and_unconditional_refuses_them(model_paths):
    z = latents_for_seeds([0], 8)
    with pytest.raises(ValueError, match="conditional"):
        run_generator(make_session(model_paths[True]), z)
    with pytest.raises(ValueError, match="unconditional"):
        run_generator(make_session(model_paths[False]), z, np.zeros(1, dtype=np.int64))


def test_default_session_is_single_threaded_and_spreads_batches_over_the_cores(model_paths):
    session = make_session(model_paths[False])
    assert session.get_session_options().intra_op_num_threads == 1
    assert batch_workers(session) == cpu_workers()
    threaded = make_session(model_paths[False], intra_op_threads=2)
    assert batch_workers(threaded) == 1


def test_splitting_a_batch_across_workers_gives_identical_images(model_paths):
    session = make_session(model_paths[True])
    z = latents_for_seeds(range(13), 8)
    labels = np.arange(13, dtype=np.int64) % 2
    whole = run_generator(session, z, labels, workers=1)
    for workers in (2, 3, 8):
        assert np.array_equal(run_generator(session, z, labels, workers=workers), whole)
