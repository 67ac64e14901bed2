"""Every architecture: trains, resumes bit-for-bit, exports with parity, samples reproducibly; FastGAN's parts."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from generation.gan.config import RESOLUTIONS, GANConfig
from generation.gan.export import check_parity, export_generator, read_model_metadata, to_onnx
from generation.gan.fastgan import FastDiscriminator, FastGenerator, NearestUpConv, excitation_pairs
from generation.gan.networks import build_discriminator, build_generator
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator
from generation.gan.trainer import Trainer

ARCH_CHANGES = {
    "dcgan": {"arch": "dcgan"},
    "fastgan": {"arch": "fastgan", "recon_weight": 1.0, "loss": "hinge"},
    "fastgan-rpgan-r1": {"arch": "fastgan", "loss": "rpgan", "r1_gamma": 1.0, "reg_every": 2},
    "fastgan-conditional-ada": {
        "arch": "fastgan",
        "recon_weight": 1.0,
        "conditional": True,
        "num_classes": 3,
        "ada": True,
        "ada_interval": 1,
        "ada_speed_images": 100,
        "cond_transition_steps": 4,
    },
    "dcgan-conditional-ada": {
        "arch": "dcgan",
        "conditional": True,
        "num_classes": 3,
        "ada": True,
        "ada_interval": 2,
        "ada_speed_images": 100,
        "cond_transition_steps": 4,
    },
    "dcgan-periodic": {"arch": "dcgan", "loss": "hinge", "periodic_channels": 4},
    "dcgan-periodic-conditional": {
        "arch": "dcgan",
        "loss": "hinge",
        "periodic_channels": 4,
        "conditional": True,
        "num_classes": 3,
        "cond_transition_steps": 4,
    },
}


def _same_weights(a: nn.Module, b: nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


@pytest.mark.parametrize("changes", ARCH_CHANGES.values(), ids=ARCH_CHANGES.keys())
def test_every_architecture_resumes_bit_for_bit(tmp_path, toy_dataset, tiny_config, changes):
    config = tiny_config(steps=6, checkpoint_every=3, **changes)
    straight = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path / "straight")
    straight.run()
    first = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path / "split")
    assert first.run(max_steps=3).reason == "paused"
    del first
    torch.manual_seed(999)
    random.seed(999)
    np.random.seed(999)
    resumed = Trainer.resume(
        checkpoint_path=tmp_path / "split" / "checkpoints" / "latest.pt", dataset=toy_dataset, device="cpu"
    )
    assert resumed.run().completed
    assert resumed.history == straight.history and len(straight.history["d_loss"]) == 6
    assert all(np.isfinite(values).all() for values in straight.history.values())
    _same_weights(resumed.generator, straight.generator)
    _same_weights(resumed.discriminator, straight.discriminator)
    _same_weights(resumed.generator_ema, straight.generator_ema)
    if straight.ada is not None:
        assert resumed.ada.state_dict() == straight.ada.state_dict()
    if config.conditional:
        assert float(resumed.generator_ema.conditioning) == float(straight.generator_ema.conditioning) == 1.0


@pytest.mark.parametrize("changes", [{"arch": "dcgan"}, {"arch": "fastgan"}, {"periodic_channels": 4}])
def test_every_architecture_exports_with_parity_and_samples_reproducibly(tmp_path, toy_dataset, tiny_config, changes):
    config = tiny_config(steps=3, conditional=True, num_classes=3, **changes)
    arch = config.arch
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu")
    trainer.run()
    exported = export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=tmp_path / "model.onnx",
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    assert exported.max_abs_diff <= 1e-4
    assert read_model_metadata(exported.path)["config"]["arch"] == arch
    session = make_session(exported.path)
    z, labels = latents_for_seeds([3, 4, 5], config.latent_dim), np.array([0, 1, 2])
    first, again = run_generator(session, z, labels), run_generator(make_session(exported.path), z, labels)
    assert np.array_equal(first, again)
    # an image does not depend on what it was batched with
    alone = run_generator(session, z[1:2], labels[1:2])
    assert np.abs(alone.astype(int) - first[1:2].astype(int)).max() <= 1


def _trained_looking(generator: nn.Module) -> nn.Module:
    torch.manual_seed(1)
    for module in generator.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return generator.eval()


@pytest.mark.parametrize(
    "resolution", [pytest.param(r, marks=pytest.mark.slow) if r >= 256 else r for r in RESOLUTIONS]
)
def test_fastgan_exports_with_parity_at_every_resolution(tmp_path, resolution):
    config = GANConfig(arch="fastgan", resolution=resolution, latent_dim=16, g_channels=4)
    generator = _trained_looking(build_generator(config))
    model = to_onnx(generator)
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    assert check_parity(generator=generator, onnx_path=path, batch_sizes=(1, 3)) <= 1e-4
    # the up blocks became phase convolutions (no ConvTranspose left where the rewrite applies)
    ops = {node.op_type for node in model.graph.node}
    assert "DepthToSpace" in ops and "Resize" not in ops


@pytest.mark.parametrize(
    "resolution", [pytest.param(r, marks=pytest.mark.slow) if r >= 256 else r for r in RESOLUTIONS]
)
def test_periodic_dcgan_exports_with_parity_at_every_resolution(tmp_path, resolution):
    config = GANConfig(resolution=resolution, latent_dim=16, g_channels=4, periodic_channels=3)
    generator = _trained_looking(build_generator(config))
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(generator).SerializeToString())
    assert check_parity(generator=generator, onnx_path=path, batch_sizes=(1, 3)) <= 1e-4


def test_dcgan_export_still_uses_its_own_rewrite(tmp_path):
    config = GANConfig(arch="dcgan", resolution=64, latent_dim=16, g_channels=8)
    model = to_onnx(_trained_looking(build_generator(config)))
    assert [node.op_type for node in model.graph.node][0] in {"Gemm", "MatMul"}


def test_nearest_up_conv_is_upsample_then_3x3_conv():
    torch.manual_seed(0)
    layer = NearestUpConv(5, 7)
    x = torch.randn(2, 5, 6, 6)
    assert layer(x).shape == (2, 7, 12, 12)
    torch.testing.assert_close(layer(x), layer.reference(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_fastgan_networks_have_the_documented_shapes(resolution):
    config = GANConfig(arch="fastgan", resolution=resolution, latent_dim=8, g_channels=4, d_channels=4)
    generator, discriminator = build_generator(config), build_discriminator(config)
    assert isinstance(generator, FastGenerator) and isinstance(discriminator, FastDiscriminator)
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, 3, resolution, resolution) and images.abs().max() <= 1
    logits, reconstruction = discriminator(images, reconstruct=True)
    side = min(32, resolution)
    assert logits.shape == (2,) and reconstruction.shape == (2, 3, side, side)
    assert [big for _, big in excitation_pairs(resolution)] == [s for s in (32, 64, 128, 256, 512) if s <= resolution]


def test_skip_layer_excitation_gates_the_big_feature_map():
    generator = FastGenerator(resolution=32, latent_dim=8, channels=4)
    gates = generator.excite["32"].main(torch.randn(3, generator.widths[4], 4, 4))
    assert gates.shape == (3, generator.widths[32], 1, 1) and ((gates > 0) & (gates < 1)).all()


def test_conditioning_fades_in_over_the_transition(toy_dataset, tiny_config):
    config = tiny_config(steps=4, arch="fastgan", conditional=True, num_classes=3, cond_transition_steps=4)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu")
    assert [trainer.conditioning_weight(step) for step in (0, 2, 4, 8)] == [0.0, 0.5, 1.0, 1.0]
    trainer.train_step()
    assert float(trainer.generator.conditioning) == 0.0  # step 0 trained unconditionally
    trainer.run()
    assert float(trainer.generator.conditioning) == 0.75  # step 3's weight; export uses the EMA copy's
    assert float(trainer.generator_ema.conditioning) == 0.75


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bf16 autocast, channels-last)")
def test_fastgan_trains_in_bf16_on_cuda_and_exports_with_parity(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=4, arch="fastgan", recon_weight=1.0, ada=True, conditional=True, num_classes=3)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cuda", out_dir=tmp_path)
    assert trainer.autocast and trainer.images.is_cuda
    result = trainer.run()
    assert result.completed and all(np.isfinite(v).all() for v in trainer.history.values())
    exported = export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=tmp_path / "model.onnx",
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    assert exported.max_abs_diff <= 1e-4


def test_a_run_stopped_mid_fade_in_loads_and_resumes_with_the_weight_it_trained_with(
    tmp_path, toy_dataset, tiny_config
):
    from generation.gan.trainer import load_generator

    config = tiny_config(steps=8, arch="fastgan", conditional=True, num_classes=3, cond_transition_steps=8)
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run(max_steps=3)  # trained steps 0, 1, 2: last weight 2/8
    assert float(trainer.generator_ema.conditioning) == 0.25
    assert float(load_generator(result.checkpoint_path).generator.conditioning) == 0.25
    resumed = Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cpu")
    assert float(resumed.generator_ema.conditioning) == 0.25


@pytest.mark.parametrize("arch", ["dcgan", "fastgan"])
def test_networks_refuse_a_wrongly_shaped_input_by_name(arch):
    config = GANConfig(arch=arch, resolution=32, latent_dim=16, g_channels=8, d_channels=8)
    generator, discriminator = build_generator(config).eval(), build_discriminator(config).eval()
    with torch.no_grad():
        assert generator(torch.zeros(2, 16)).shape == (2, 3, 32, 32)
        assert discriminator(torch.zeros(2, 3, 32, 32)).shape == (2,)
        with pytest.raises(ValueError, match=r"latents must be \[N, 16\], got \[2, 15\]"):
            generator(torch.zeros(2, 15))
        with pytest.raises(ValueError, match=r"latents must be \[N, 16\], got \[16\]"):
            generator(torch.zeros(16))
        with pytest.raises(ValueError, match=r"images must be \[N, 3, 32, 32\], got \[2, 3, 64, 64\]"):
            discriminator(torch.zeros(2, 3, 64, 64))
        with pytest.raises(ValueError, match=r"got \[2, 1, 32, 32\]"):
            discriminator(torch.zeros(2, 1, 32, 32))
