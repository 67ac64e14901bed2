"""DCGAN-family generator and discriminator, sized by resolution.

Both networks have `n = log2(resolution) - 2` stride-2 stages between 4x4 and the image, so 32 -> 3 stages,
64 -> 4 (the DCGAN paper's layout), 128 -> 5. Conditioning: G concatenates a class embedding to z; D is a
projection discriminator (Miyato & Koyama, 2018): logit += <embed(y), sum-pooled features>.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn.utils import parametrizations

from generation.gan.config import GANConfig


def stage_count(resolution: int) -> int:
    stages = int(math.log2(resolution)) - 2
    if 2 ** (stages + 2) != resolution or stages < 1:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return stages


def check_latents(z: torch.Tensor, latent_dim: int) -> None:
    """A generator's input must be [N, latent_dim]; a wrong shape fails here, named, not deep in a layer."""
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"latents must be [N, {latent_dim}], got {list(z.shape)}")


def check_images(images: torch.Tensor, resolution: int) -> None:
    """A discriminator's input must be [N, 3, resolution, resolution]."""
    if images.ndim != 4 or tuple(images.shape[1:]) != (3, resolution, resolution):
        raise ValueError(f"images must be [N, 3, {resolution}, {resolution}], got {list(images.shape)}")


def init_dcgan_weights(module: nn.Module) -> None:
    """Conv/linear weights ~ N(0, 0.02), batch-norm gamma ~ N(1, 0.02) and beta = 0 (Radford et al., 2015)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# cycles per image of the initial waves' spread: a pattern's cycles per image are the same at every
# resolution it is trained at (the textiles' 4-16 at 32 and 64 px alike)
FREQUENCY_SCALE = 8.0


class PeriodicMaps(nn.Module):
    """PSGAN's periodic noise (Bergmann et al., 2017, "Learning Texture Manifolds with the Periodic Spatial
    GAN"): `count` plane waves sin(2 pi (f . p) + phi) whose wave vectors f (cycles per image) and phases phi
    are a learned linear function of G's input, drawn at any grid size over the same image coordinates, so
    every stage of G sees one global, coherent pattern to build stripes, checks and weaves on."""

    def __init__(self, *, input_dim: int, count: int) -> None:
        super().__init__()
        self.count = count
        self.waves = nn.Linear(input_dim, 3 * count)
        # z ~ N(0, 1): wave vectors ~ N(0, 8^2) cycles per image, phases ~ N(0, pi^2)
        nn.init.normal_(self.waves.weight, 0.0, 1.0 / math.sqrt(input_dim))
        nn.init.zeros_(self.waves.bias)
        self.frequency_scale = FREQUENCY_SCALE

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # z: [N, input_dim] -> [N, count, 3]: (fx, fy) in cycles per image, phase in radians
        waves = self.waves(z).reshape(-1, self.count, 3)
        return torch.cat([waves[..., :2] * self.frequency_scale, waves[..., 2:] * math.pi], dim=-1)

    @staticmethod
    def feed(layers: nn.Module, x: torch.Tensor, waves: torch.Tensor) -> torch.Tensor:
        """Runs `layers` on x, giving every ConvTranspose2d with a spatial input (not the 1x1 latent) the
        maps at its input's size as extra channels: G's up stages, and their folded copies in the export."""
        for layer in layers:
            if isinstance(layer, nn.ConvTranspose2d) and x.shape[-1] > 1:
                x = torch.cat([x, PeriodicMaps.draw(waves, x.shape[-1])], dim=1)
            x = layer(x)
        return x

    @staticmethod
    def draw(waves: torch.Tensor, size: int) -> torch.Tensor:
        # waves [N, K, 3] -> maps [N, K, size, size], sampled at the centres of a size x size grid over [0, 1)^2
        centres = (torch.arange(size, dtype=waves.dtype, device=waves.device) + 0.5) / size
        fx, fy, phase = (waves[..., i, None, None] for i in range(3))
        return torch.sin(2 * math.pi * (fx * centres[None, None, None, :] + fy * centres[None, None, :, None]) + phase)


class Generator(nn.Module):
    def __init__(
        self, *, resolution: int, latent_dim: int, channels: int, num_classes: int = 0, periodic_channels: int = 0
    ) -> None:
        super().__init__()
        stages = stage_count(resolution)
        self.latent_dim = latent_dim
        self.num_classes = num_classes  # 0 = unconditional
        # widths from the 4x4 input toward the image, e.g. 64px, channels=64: 512, 256, 128, 64
        widths = [channels * 2 ** (stages - 1 - i) for i in range(stages)]
        self.embed = None
        if num_classes:
            # A small class embedding (N(0, 0.1); z is N(0, 1)). At nn.Embedding's N(0, 1), G leaned on the
            # class alone and ignored z (within-class spread fell 7x in 2k steps on 25 images per class); at
            # 0.1 the spread grew 4x instead.
            self.embed = nn.Embedding(num_classes, latent_dim)
            nn.init.normal_(self.embed.weight, 0.0, 0.1)
        # how much of the class term is on (0..1): the trainer fades conditioning in (cond_transition_steps);
        # not persistent, so checkpoints of before it existed still load; the trainer sets it from the step
        self.register_buffer("conditioning", torch.ones(()), persistent=False)
        input_dim = latent_dim * (2 if num_classes else 1)
        # off: no module, and the state dict is the one checkpoints of before the option hold
        self.periodic = PeriodicMaps(input_dim=input_dim, count=periodic_channels) if periodic_channels else None
        extra = periodic_channels  # every up stage after the first takes the periodic maps as extra channels
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(input_dim, widths[0], 4, 1, 0, bias=False),  # [N, in, 1, 1] -> [N, w0, 4, 4]
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(c_in + extra, c_out, 4, 2, 1, bias=False),  # [N, c_in, s, s] -> [N, c_out, 2s, 2s]
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1] + extra, 3, 4, 2, 1, bias=False), nn.Tanh()]  # -> [N, 3, R, R]
        self.main = nn.Sequential(*layers)
        self.main.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # z: [N, latent_dim] float, labels: [N] int64 -> images [N, 3, R, R] in [-1, 1]
        check_latents(z, self.latent_dim)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels) * self.conditioning], dim=1)
        if self.periodic is None:
            return self.main(z[:, :, None, None])
        return PeriodicMaps.feed(self.main, z[:, :, None, None], self.periodic(z))


class MinibatchStd(nn.Module):
    """Appends one map: the feature standard deviation over groups of `group` images (ProGAN / StyleGAN2).

    Image i is grouped with i + n, i + 2n, ... (n = N / group), as in StyleGAN2-ADA's MinibatchStdLayer; the
    map is the group's stddev averaged over channels and pixels, so a batch of near-identical fakes shows D a
    value the reals never have. A batch the group does not divide (a rank's share of a global batch) uses the
    largest common divisor of the two; a group of one image gives a constant map.
    """

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [N, C, H, W] -> [N, C + 1, H, W]
        n, _, h, w = x.shape
        group = math.gcd(n, self.group)
        y = x.float().reshape(group, -1, *x.shape[1:])  # [G, N/G, C, H, W]
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # [N/G, C, H, W]: variance over the group
        y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [N/G]
        y = y.to(x.dtype).reshape(1, -1, 1, 1, 1).expand(group, -1, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(
        self,
        *,
        resolution: int,
        channels: int,
        num_classes: int = 0,
        spectral_norm: bool = False,
        mbstd_group: int = 0,
    ) -> None:
        super().__init__()
        stages = stage_count(resolution)
        self.resolution = resolution
        self.num_classes = num_classes
        # widths from the image toward 4x4, e.g. 64px, channels=64: 64, 128, 256, 512
        widths = [channels * 2**i for i in range(stages)]
        norm = _spectral if spectral_norm else (lambda layer: layer)
        layers: list[nn.Module] = [
            norm(_init(nn.Conv2d(3, widths[0], 4, 2, 1, bias=spectral_norm))),  # [N, 3, R, R] -> [N, w0, R/2, R/2]
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            layers.append(norm(_init(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=spectral_norm))))  # halves H and W
            if not spectral_norm:
                layers.append(_init(nn.BatchNorm2d(c_out)))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.features = nn.Sequential(*layers)  # -> [N, w_last, 4, 4]
        # off: no module, and the state dict is the one checkpoints of before the option hold
        self.mbstd = MinibatchStd(mbstd_group) if mbstd_group else None
        extra = 1 if self.mbstd is not None else 0
        self.head = norm(_init(nn.Conv2d(widths[-1] + extra, 1, 4, 1, 0, bias=False)))  # -> [N, 1, 1, 1]
        self.embed = None
        if num_classes:
            embed = nn.Embedding(num_classes, widths[-1])
            nn.init.normal_(embed.weight, 0.0, 0.02)
            self.embed = norm(embed)
        self.register_buffer("conditioning", torch.ones(()), persistent=False)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # images: [N, 3, R, R] in [-1, 1] -> logits [N]
        check_images(images, self.resolution)
        features = self.features(images)  # [N, C, 4, 4]
        logits = self.head(features if self.mbstd is None else self.mbstd(features)).flatten()  # [N]
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            pooled = features.sum(dim=(2, 3))  # [N, C]
            logits = logits + self.conditioning * (self.embed(labels) * pooled).sum(dim=1)
        return logits


def _init(module: nn.Module) -> nn.Module:
    init_dcgan_weights(module)
    return module


def _spectral(module: nn.Module) -> nn.Module:
    return parametrizations.spectral_norm(module)


def build_generator(config: GANConfig) -> nn.Module:
    """The generator of `config.arch`: this module's DCGAN or generation.gan.fastgan's."""
    if config.arch == "fastgan":
        from generation.gan.fastgan import build_fast_generator  # noqa: PLC0415 - fastgan imports this module

        return build_fast_generator(config)
    return Generator(
        resolution=config.resolution,
        latent_dim=config.latent_dim,
        channels=config.g_channels,
        num_classes=config.num_classes if config.conditional else 0,
        periodic_channels=config.periodic_channels,
    )


def build_discriminator(config: GANConfig) -> nn.Module:
    if config.arch == "fastgan":
        from generation.gan.fastgan import build_fast_discriminator  # noqa: PLC0415

        return build_fast_discriminator(config)
    return Discriminator(
        resolution=config.resolution,
        channels=config.d_channels,
        num_classes=config.num_classes if config.conditional else 0,
        spectral_norm=config.spectral_norm,
        mbstd_group=config.mbstd_group,
    )
