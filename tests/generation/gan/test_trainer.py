import os
import random

import numpy as np
import pytest
import torch
from PIL import Image

from generation.gan.config import ConfigError
from generation.gan.data import PreparedDataset
from generation.gan.export import export_generator
from generation.gan.trainer import (
    RECALIBRATION_BATCH,
    RECALIBRATION_IMAGES,
    Trainer,
    load_checkpoint,
    load_generator,
    stream_seed,
)
from generation.gan.visuals import CURVE_COLOURS


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


@pytest.mark.parametrize(
    "changes",
    [
        {},  # bce, unconditional, DiffAugment + mirror on
        {"loss": "hinge", "conditional": True, "num_classes": 3, "spectral_norm": True},
        {"loss": "hinge", "mbstd_group": 4},
        {"loss": "hinge", "conditional": True, "num_classes": 3, "mode_seeking": 1.0},
    ],
    ids=["bce", "hinge-conditional-sn", "hinge-mbstd", "hinge-conditional-mode-seeking"],
)
def test_resumed_run_matches_uninterrupted_run_bit_for_bit(tmp_path, toy_dataset, tiny_config, changes):
    config = tiny_config(steps=6, checkpoint_every=3, **changes)
    straight = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path / "straight")
    straight.run()

    first_half = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path / "split")
    assert first_half.run(max_steps=3).reason == "paused"
    del first_half
    torch.manual_seed(12345)  # whatever ran in between must not matter
    random.seed(12345)
    np.random.seed(12345)
    resumed = Trainer.resume(
        checkpoint_path=tmp_path / "split" / "checkpoints" / "latest.pt", dataset=toy_dataset, device="cpu"
    )
    assert resumed.step == 3
    result = resumed.run()

    assert result.completed and result.step == 6
    assert len(straight.history["d_loss"]) == 6
    assert resumed.history == straight.history  # exact float equality, every step
    _assert_same_weights(resumed.generator, straight.generator)
    _assert_same_weights(resumed.discriminator, straight.discriminator)
    _assert_same_weights(resumed.generator_ema, straight.generator_ema)


def test_mode_seeking_pairs_latents_under_one_class_and_changes_the_generators_step(toy_dataset, tiny_config):
    config = tiny_config(steps=2, loss="hinge", conditional=True, num_classes=3, batch_size=7)
    seen: list[torch.Tensor] = []
    trainers = {}
    for weight in (0.0, 1.0):
        trainer = Trainer(config=config.replace(mode_seeking=weight), dataset=toy_dataset, device="cpu")
        train_generator = trainer._g_train
        trainer._g_train = lambda z, labels, g=train_generator: seen.append(labels.clone()) or g(z, labels)
        trainer.run()
        trainers[weight] = trainer
    plain, paired = seen[:2], seen[2:]
    assert any(not torch.equal(batch[4:], batch[:3]) for batch in plain)  # drawn independently without it
    for batch in paired:
        assert torch.equal(batch[4:], batch[:3])  # pairs (i, 4 + i) share a class; the middle one is unpaired
    assert not torch.equal(trainers[0.0].generator.main[0].weight, trainers[1.0].generator.main[0].weight)


def test_checkpoint_carries_config_step_optimizers_and_every_rng_state(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=2)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run()
    state = load_checkpoint(result.checkpoint_path)
    assert state["config"] == config.to_dict()
    assert state["step"] == 2
    assert state["dataset_hash"] == toy_dataset.dataset_hash
    assert {"generator", "discriminator", "generator_ema", "optimizer_g", "optimizer_d"} <= state.keys()
    assert {"python", "numpy", "torch", "cuda", "data", "augment", "noise"} == state["rng"].keys()
    assert len(state["optimizer_g"]["state"]) == len(list(trainer.generator.parameters()))


class _Unpicklable:
    def __reduce__(self):
        raise OSError("disk full")  # the write fails part-way through serialising the checkpoint


class _CrashingTrainer(Trainer):
    def state_dict(self):
        return {**super().state_dict(), "zz_crash": _Unpicklable()}


def test_crash_while_writing_a_checkpoint_leaves_the_previous_one_valid(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=4)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    trainer.run(max_steps=2)
    path = trainer.checkpoint_path
    before = path.read_bytes()

    crashing = _CrashingTrainer.resume(checkpoint_path=path, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    crashing.train_step()
    with pytest.raises(OSError, match="disk full"):
        crashing.save_checkpoint()

    assert path.read_bytes() == before
    assert load_checkpoint(path)["step"] == 2
    assert sorted(os.listdir(path.parent)) == ["latest.pt"]  # no temporary file left behind


def test_should_stop_cancels_at_the_next_step_with_a_resumable_checkpoint(tmp_path, toy_dataset, tiny_config):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    trainer = Trainer(config=tiny_config(steps=50), dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run(should_stop=should_stop)
    assert result.reason == "cancelled" and result.step == 2
    assert load_checkpoint(result.checkpoint_path)["step"] == 2
    resumed = Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cpu")
    assert resumed.run(max_steps=1).step == 3


def test_time_limit_stops_with_a_checkpoint(tmp_path, toy_dataset, tiny_config):
    trainer = Trainer(config=tiny_config(steps=50), dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run(max_seconds=0)
    assert result.reason == "time_limit" and result.step == 0
    assert result.checkpoint_path.is_file()


def test_progress_reports_losses_speed_eta_and_latest_outputs(tmp_path, toy_dataset, tiny_config):
    reports = []
    config = tiny_config(steps=6, log_every=2, sample_every=3)
    Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path).run(on_progress=reports.append)
    assert [r.step for r in reports] == [2, 3, 4, 6]
    assert all(r.total_steps == 6 for r in reports)
    assert all(set(r.losses) == {"d_loss", "g_loss"} and np.isfinite(list(r.losses.values())).all() for r in reports)
    assert all(r.images_per_second > 0 for r in reports)
    assert reports[-1].eta_seconds == 0
    assert reports[0].sample_grid_path is None
    assert reports[1].sample_grid_path.name == "step_0000003.png"
    assert reports[-1].sample_grid_path.name == "step_0000006.png"
    assert reports[-1].loss_curve_path.is_file()
    assert reports[-1].checkpoint_path.is_file()


def test_sample_grid_and_loss_curve_are_pngs(tmp_path, toy_dataset, tiny_config):
    trainer = Trainer(config=tiny_config(steps=3), dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run()
    grid = Image.open(result.sample_grid_path)
    assert grid.format == "PNG" and grid.size == (4 * 34 + 2, 4 * 34 + 2)  # 16 images of 32px, 2px gaps
    curve = Image.open(result.loss_curve_path)
    assert curve.format == "PNG" and curve.size == (640, 320)
    colours = {tuple(pixel) for pixel in np.asarray(curve.convert("RGB")).reshape(-1, 3).tolist()}
    assert CURVE_COLOURS["d_loss"] in colours and CURVE_COLOURS["g_loss"] in colours  # both series drawn


def test_fixed_noise_samples_are_the_same_at_the_same_step(toy_dataset, tiny_config):
    trainer = Trainer(config=tiny_config(), dataset=toy_dataset, device="cpu")
    first, second = trainer.sample_images(), trainer.sample_images()
    assert first.shape == (16, 32, 32, 3) and first.dtype == np.uint8
    assert np.array_equal(first, second)


def test_ema_generator_is_a_copy_with_zero_decay_and_lags_with_high_decay(toy_dataset, tiny_config):
    copying = Trainer(config=tiny_config(ema_decay=0.0, steps=3), dataset=toy_dataset, device="cpu")
    copying.run()
    for ema, live in zip(copying.generator_ema.parameters(), copying.generator.parameters(), strict=True):
        assert torch.allclose(ema, live, atol=0, rtol=1e-6)
    lagging = Trainer(config=tiny_config(ema_decay=0.999, steps=3), dataset=toy_dataset, device="cpu")
    lagging.run()
    assert not torch.equal(lagging.generator_ema.main[0].weight, lagging.generator.main[0].weight)


def test_ema_batch_norm_statistics_are_those_of_its_own_weights(toy_dataset, tiny_config):
    """Not the live G's (copied every step): re-estimated from the EMA's own samples once a run ends."""
    config = tiny_config(ema_decay=0.999, steps=3)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu")
    trainer.run()
    ema = trainer.generator_ema
    rng = torch.Generator().manual_seed(stream_seed(config.seed, 4))
    z = torch.cat(
        [
            torch.randn(min(RECALIBRATION_BATCH, RECALIBRATION_IMAGES - start), config.latent_dim, generator=rng)
            for start in range(0, RECALIBRATION_IMAGES, RECALIBRATION_BATCH)
        ]
    )
    with torch.no_grad():
        first = ema.main[0](z[:, :, None, None])  # the activations the first batch norm normalises
    assert not ema.training
    torch.testing.assert_close(ema.main[1].running_mean, first.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-6)
    assert not torch.allclose(ema.main[1].running_mean, trainer.generator.main[1].running_mean, rtol=0.1)


def test_load_generator_returns_the_ema_weights_in_eval_mode(tmp_path, toy_dataset, tiny_config):
    trainer = Trainer(config=tiny_config(steps=2), dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run()
    loaded = load_generator(result.checkpoint_path)
    assert not loaded.generator.training
    _assert_same_weights(loaded.generator, trainer.generator_ema)
    assert (loaded.step, loaded.dataset_hash, loaded.class_names) == (
        2,
        toy_dataset.dataset_hash,
        toy_dataset.class_names,
    )


def test_config_that_does_not_fit_the_dataset_is_rejected(toy_dataset, tiny_config):
    with pytest.raises(ConfigError) as caught:
        Trainer(config=tiny_config(resolution=64), dataset=toy_dataset, device="cpu")
    assert caught.value.field == "resolution"
    with pytest.raises(ConfigError) as caught:
        Trainer(config=tiny_config(conditional=True, num_classes=5), dataset=toy_dataset, device="cpu")
    assert caught.value.field == "num_classes"


def test_resume_refuses_other_architectures_and_other_datasets(tmp_path, toy_dataset, tiny_config):
    result = Trainer(config=tiny_config(steps=1), dataset=toy_dataset, device="cpu", out_dir=tmp_path).run()
    with pytest.raises(ConfigError) as caught:
        Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=toy_dataset, config_changes={"g_channels": 16})
    assert caught.value.field == "g_channels"
    other = PreparedDataset(
        images=toy_dataset.images.flip(0),
        labels=toy_dataset.labels,
        class_names=toy_dataset.class_names,
        dataset_hash="0" * 64,
        resolution=32,
    )
    with pytest.raises(ValueError, match="another dataset"):
        Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=other, device="cpu")
    longer = Trainer.resume(
        checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cpu", config_changes={"steps": 2}
    )
    assert longer.run().step == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_checkpoints_resumes_and_exports(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=4, conditional=True, num_classes=3, spectral_norm=True)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cuda", out_dir=tmp_path)
    result = trainer.run(max_steps=2)
    assert next(trainer.generator.parameters()).is_cuda
    assert load_checkpoint(result.checkpoint_path)["rng"]["cuda"] is not None
    resumed = Trainer.resume(
        checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cuda", out_dir=tmp_path
    )
    assert resumed.run().step == 4
    assert np.isfinite(resumed.history["d_loss"]).all() and len(resumed.history["g_loss"]) == 4
    exported = export_generator(
        generator=resumed.generator_ema,
        config=config,
        out_path=tmp_path / "model.onnx",
        step=resumed.step,
        dataset_hash=resumed.dataset_hash,
        class_names=resumed.class_names,
    )
    assert exported.max_abs_diff <= 1e-4
    assert next(resumed.generator_ema.parameters()).is_cuda  # export worked on a copy


@pytest.mark.parametrize(
    ("rampup", "step", "expected"),
    [
        (0.0, 0, 0.9),  # no ramp-up: ema_decay from the first step
        (0.02, 0, 0.5),  # half-life of one step at the start (at least one)
        (1.0, 3, 0.5 ** (1 / 4)),  # half-life = all 4 steps so far
        (1.0, 10_000, 0.9),  # capped by ema_decay
    ],
)
def test_ema_follows_the_configured_ramp_up(toy_dataset, tiny_config, rampup, step, expected):
    trainer = Trainer(config=tiny_config(ema_decay=0.9, ema_rampup=rampup), dataset=toy_dataset, device="cpu")
    trainer.step = step
    before = [p.detach().clone() for p in trainer.generator_ema.parameters()]
    for p in trainer.generator.parameters():
        p.data.add_(1.0)
    trainer._update_ema()
    for old, live, new in zip(before, trainer.generator.parameters(), trainer.generator_ema.parameters(), strict=True):
        torch.testing.assert_close(new, old + (1 - expected) * (live - old))
