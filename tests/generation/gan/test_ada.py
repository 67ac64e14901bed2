"""ADA: the augmentation probability follows D's overfitting signal, is reported, and survives a resume."""

import pytest
import torch

from generation.gan.augment import AdaptiveProbability, diff_augment
from generation.gan.trainer import Trainer, load_checkpoint


def _controller(**changes) -> AdaptiveProbability:
    return AdaptiveProbability(**{"target": 0.6, "interval": 2, "speed_images": 80, "batch_size": 8, **changes})


def test_p_rises_while_d_is_sure_of_the_reals_and_falls_when_it_is_not():
    ada = _controller()
    for _ in range(4):  # two intervals of confident reals: r_t = 1 > 0.6
        ada.observe(torch.full((8,), 3.0))
    assert ada.signal == 1.0 and ada.p == pytest.approx(2 * 16 / 80)
    for _ in range(2):  # one interval of unsure reals: r_t = 0 < 0.6
        ada.observe(torch.tensor([1.0, -1.0] * 4))
    assert ada.signal == 0.0 and ada.p == pytest.approx(16 / 80)


def test_p_stays_within_zero_and_one():
    ada = _controller(speed_images=10)
    for _ in range(20):
        ada.observe(torch.ones(8))
    assert ada.p == 1.0
    for _ in range(40):
        ada.observe(-torch.ones(8))
    assert ada.p == 0.0


def test_p_moves_only_once_per_interval():
    ada = _controller(interval=4)
    for _ in range(3):
        ada.observe(torch.ones(8))
    assert ada.p == 0.0 and ada.signal is None
    ada.observe(torch.ones(8))
    assert ada.p > 0


def test_probability_gates_each_image():
    images = torch.rand(64, 3, 8, 8) * 2 - 1
    untouched = diff_augment(images, ops=("color",), generator=torch.Generator().manual_seed(0), p=0.0)
    assert torch.equal(untouched, images)
    every = diff_augment(images, ops=("color",), generator=torch.Generator().manual_seed(0), p=1.0)
    assert (every != images).flatten(1).any(dim=1).all()
    half = diff_augment(images, ops=("color",), generator=torch.Generator().manual_seed(0), p=0.5)
    changed = (half != images).flatten(1).any(dim=1).float().mean()
    assert 0.25 < changed < 0.75


def test_an_overfitting_discriminator_raises_p_in_training(toy_dataset, tiny_config):
    # D learns ten times faster than a nearly frozen G on 24 images: it soon tells every real apart
    config = tiny_config(
        steps=40, ada=True, ada_interval=4, ada_speed_images=400, lr_d=5e-3, lr_g=1e-6, augment_policy="color"
    )
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu")
    reports = []
    trainer.run(on_progress=reports.append)
    assert trainer.ada.signal > config.ada_target
    assert trainer.ada.p > 0.2
    assert reports[-1].augment_p == trainer.ada.p and reports[-1].ada_signal == trainer.ada.signal


def test_p_is_saved_in_checkpoints_and_restored(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=6, ada=True, ada_interval=2, ada_speed_images=100, lr_d=5e-3)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run(max_steps=5)  # mid-interval: the pending signal must travel too
    state = load_checkpoint(result.checkpoint_path)["ada"]
    assert state["p"] == trainer.ada.p and state["steps"] == 1
    resumed = Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cpu")
    assert resumed.ada.state_dict() == trainer.ada.state_dict()


def test_without_ada_no_probability_is_reported(toy_dataset, tiny_config):
    trainer = Trainer(config=tiny_config(steps=2), dataset=toy_dataset, device="cpu")
    reports = []
    trainer.run(on_progress=reports.append)
    assert trainer.ada is None and reports[-1].augment_p is None
