"""Generated images for the provenance benchmark: the outputs of a tiny GAN (the demo's 32 px config, trained
once on the toy-shapes dataset and cached under var/bench/provenance), so matching and watermark figures are
measured on what the platform really publishes rather than on smooth procedural pictures.

    python -m bench.gan_images      # trains (a few minutes on two cores) and caches the images
"""

import tempfile
from pathlib import Path

import numpy as np
import torch

from generation.gan.config import GANConfig
from generation.gan.data import prepare_dataset, write_toy_dataset
from generation.gan.noise import latents_for_seeds, to_uint8_images
from generation.gan.trainer import Trainer

CACHE = Path(__file__).resolve().parent.parent / "var" / "bench" / "provenance" / "gan32_images.npz"
TINY_GAN = {
    "resolution": 32,
    "g_channels": 32,
    "d_channels": 32,
    "batch_size": 32,
    "steps": 800,
    "sample_every": 10_000,
    "checkpoint_every": 10_000,
    "log_every": 50,
    "seed": 7,
}
IMAGES = 1000


def gan_images(count: int = IMAGES) -> np.ndarray:
    """[count, 32, 32, 3] uint8 images from one tiny GAN, seeds 0..count-1 (trained and cached on first use)."""
    if CACHE.exists():
        cached = np.load(CACHE)["images"]
        if len(cached) >= count:
            return cached[:count]
    config = GANConfig(**TINY_GAN)
    with tempfile.TemporaryDirectory() as folder:
        root = write_toy_dataset(out_dir=Path(folder) / "toy", classes=3, per_class=40, resolution=32, seed=7)
        dataset = prepare_dataset(image_dir=root, resolution=32)
        trainer = Trainer(config=config, dataset=dataset, device="cpu")
        trainer.run()
    generator = trainer.generator_ema.eval()
    with torch.no_grad():
        latents = torch.from_numpy(latents_for_seeds(range(max(count, IMAGES)), config.latent_dim))
        images = to_uint8_images(generator(latents.contiguous()).numpy())
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(CACHE, images=images)
    return images[:count]


if __name__ == "__main__":
    print(gan_images().shape, "cached at", CACHE)
