"""The shipped demo model: made by this project's trainer, its recipe recorded, its files checked."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generation import demo as demo_model
from generation.demo import DATASET_RECIPE, TRAIN_FLAGS, DemoModelError, load_demo_model
from generation.gan.config import GANConfig
from generation.gan.data import dataset_hash
from generation.gan.export import read_model_metadata
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator
from generation.gan.procedural import write_landscapes

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_model_matches_its_metadata_and_recipe():
    demo = load_demo_model()
    meta = demo.metadata
    embedded = read_model_metadata(demo.path)
    assert meta["config"] == embedded["config"] and meta["step"] == embedded["step"]
    config = GANConfig.from_dict(meta["config"])
    assert config.arch == TRAIN_FLAGS["--arch"] and config.resolution == int(TRAIN_FLAGS["--resolution"])
    assert meta["step"] == config.steps == int(TRAIN_FLAGS["--steps"]) and meta["seed"] == int(TRAIN_FLAGS["--seed"])
    assert meta["command"].startswith("python -m generation.gan.train ")
    for flag, value in TRAIN_FLAGS.items():
        assert f"{flag} {value}" in meta["command"]
    assert meta["git_commit"] and not meta["git_commit"].endswith("+uncommitted")
    assert meta["parity_max_abs_diff"] is not None and meta["parity_max_abs_diff"] < 1e-3
    assert meta["onnx_size"] == demo.path.stat().st_size < 4_000_000  # small enough to ship in the repository


def test_the_recipe_draws_exactly_the_images_the_model_was_trained_on(tmp_path):
    folder = write_landscapes(
        out_dir=tmp_path, count=DATASET_RECIPE["count"], seed=DATASET_RECIPE["seed"], side=DATASET_RECIPE["side"]
    )
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.png"))]
    assert len(digests) == DATASET_RECIPE["count"]
    assert dataset_hash(digests) == load_demo_model().metadata["dataset"]["dataset_hash"]


def test_the_shipped_model_draws_varied_full_size_images():
    demo = load_demo_model()
    latent = demo.metadata["config"]["latent_dim"]
    images = run_generator(make_session(demo.path), latents_for_seeds(range(16), latent), None)
    side = demo.metadata["config"]["resolution"]
    assert images.shape == (16, side, side, 3) and images.dtype == np.uint8
    flat = images.reshape(16, -1).astype(np.float32)
    assert flat.std(axis=0).mean() > 10  # different seeds, different pictures (not one collapsed image)
    assert 20 < flat.mean() < 235  # not black or white


def test_a_changed_model_file_is_refused(tmp_path, monkeypatch):
    changed = tmp_path / "model.onnx"
    payload = bytearray(demo_model.MODEL_FILE.read_bytes())
    payload[len(payload) // 2] ^= 1
    changed.write_bytes(bytes(payload))
    monkeypatch.setattr(demo_model, "MODEL_FILE", changed)
    with pytest.raises(DemoModelError, match="sha256"):
        load_demo_model()
    monkeypatch.setattr(demo_model, "MODEL_FILE", tmp_path / "absent.onnx")
    with pytest.raises(DemoModelError, match="missing"):
        load_demo_model()


def test_check_command_reports_the_shipped_model():
    done = subprocess.run(
        [sys.executable, "-m", "generation.demo", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert load_demo_model().sha256 in done.stdout


@pytest.mark.slow
def test_rebuild_runs_the_recorded_recipe_through_the_train_cli(tmp_path):
    command = [sys.executable, "-m", "generation.demo", "--rebuild", "--steps", "2", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rebuilt = json.loads((tmp_path / "model.json").read_text())
    shipped = load_demo_model().metadata
    # the shipped config itself, steps overridden: a change of the planner's defaults cannot make it drift
    assert rebuilt["step"] == 2 and "--config" in rebuilt["command"] and rebuilt["config"]["steps"] == 2
    assert rebuilt["dataset"] == shipped["dataset"]  # same images, same hash
    differs = {key for key in shipped["config"] if shipped["config"][key] != rebuilt["config"][key]}
    assert differs <= {"steps", "checkpoint_every", "sample_every", "log_every"}  # only what follows the steps
    assert hashlib.sha256((tmp_path / "model.onnx").read_bytes()).hexdigest() == rebuilt["onnx_sha256"]
