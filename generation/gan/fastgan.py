"""FastGAN-family networks (Liu et al., 2021, "Towards Faster and Stabilized GAN Training for High-fidelity
Few-shot Image Synthesis"), sized by resolution 32..512 and trimmed for CPU budgets.

Generator: z (+ class embedding) -> 4x4 by a linear layer, then per stage an up block (nearest 2x upsampling,
3x3 conv, batch norm, GLU) up to the image, with skip-layer excitation (SLE): a low-resolution feature map,
pooled to 4x4 and squeezed to one gate per channel, multiplies a feature map 8-16x larger. That gives G a
short path from coarse layout to fine layers, which is what lets it learn from ~100 images in few steps.

The upsample-then-3x3-conv of an up block is *computed* as the equivalent stride-2 4x4 transposed convolution
of the un-upsampled input, its kernel derived from the 3x3 weights (`nearest_up_kernel`): the same function,
2.25x fewer multiply-adds (each output phase sees a 2x2 window of the input), and in the ONNX graph it becomes
the phase convolutions of generation.gan.onnx_rewrite.

Discriminator: a 4x4 stride-2 conv from RGB, then FastGAN's two-path down blocks (4x4 stride-2 conv + 3x3
conv, in parallel with average pooling + 1x1 conv, averaged) down to 4x4, spectral norm on every conv, batch
norm; a 4x4 conv gives the logit. Self-supervision: a small decoder reconstructs the (augmented) real image at
up to 32x32 from D's 8x8 features, so D must keep a description of the whole image instead of a few
memorised cues (FastGAN uses a perceptual LPIPS loss, which needs downloaded VGG weights; we use L1 + MSE on
pixels). Conditioning as in networks.py: G concatenates a class embedding to z, D is a projection
discriminator; both scale their class term by `conditioning` (0..1) so the trainer can fade it in.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

from generation.gan.config import GANConfig
from generation.gan.networks import MinibatchStd, check_images, check_latents, stage_count

MAX_CHANNELS = 512
RECON_SIZE = 32  # side of D's reconstruction target (the real image, area-downsampled)

# rows: transposed-conv taps 0..3; columns: 3x3 taps. T = A @ W @ A.T (see nearest_up_kernel)
_UP_TAPS = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.float32)


def nearest_up_kernel(weight: torch.Tensor) -> torch.Tensor:
    """Conv2d 3x3 weight [Cout, Cin, 3, 3] of `conv(upsample_nearest_2x(x))` -> ConvTranspose2d(4, 2, 1)
    weight [Cin, Cout, 4, 4] of the same function of x.

    Output row 2m reads upsampled rows 2m-1, 2m, 2m+1 = input rows m-1, m, m; row 2m+1 reads m, m, m+1. In a
    transposed conv (o = 2i - 1 + k) input row m-1 meets tap 3 and m tap 1 for even outputs, m tap 2 and m+1
    tap 0 for odd ones: T[0] = W[2], T[1] = W[1] + W[2], T[2] = W[0] + W[1], T[3] = W[0], in both axes."""
    taps = _UP_TAPS.to(device=weight.device, dtype=weight.dtype)
    kernel = torch.einsum("ka,oiab,lb->oikl", taps, weight, taps)  # [Cout, Cin, 4, 4]
    return kernel.transpose(0, 1)


class NearestUpConv(nn.Module):
    """`Conv2d(c_in, c_out, 3, padding=1)(upsample_nearest_2x(x))`, computed as a 4x4 transposed conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in, 3, 3))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's default

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N, c_in, H, W] -> [N, c_out, 2H, 2W]
        kernel = nearest_up_kernel(self.weight).to(memory_format=torch.contiguous_format)
        return F.conv_transpose2d(x, kernel, stride=2, padding=1)

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        """The literal upsample-then-conv (tests compare the two)."""
        return F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), self.weight, padding=1)


class GLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N, 2C, H, W] -> [N, C, H, W]
        a, b = x.chunk(2, dim=1)
        return a * torch.sigmoid(b)


class UpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.up = NearestUpConv(c_in, c_out * 2)
        self.norm = nn.BatchNorm2d(c_out * 2)
        self.glu = GLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.glu(self.norm(self.up(x)))  # [N, c_in, s, s] -> [N, c_out, 2s, 2s]


class SkipExcitation(nn.Module):
    """Channel gates for a large feature map from a small one (FastGAN's SEBlock)."""

    def __init__(self, c_small: int, c_big: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(c_small, c_big, 4, 1, 0, bias=False),  # [N, c_small, 4, 4] -> [N, c_big, 1, 1]
            nn.SiLU(),
            nn.Conv2d(c_big, c_big, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        return big * self.main(small)


def _widths(resolution: int, channels: int) -> dict[int, int]:
    """Width per feature-map side from 4 to `resolution`: `channels` at the image, doubling toward 4x4."""
    sides = [4 * 2**i for i in range(stage_count(resolution) + 1)]
    return {side: min(MAX_CHANNELS, channels * resolution // side) for side in sides}


def excitation_pairs(resolution: int) -> list[tuple[int, int]]:
    """(small side, big side) of each SLE: into every side >= 32 from a side 16x smaller (at least 4), as
    FastGAN's 8->128, 16->256, 32->512."""
    sides = [4 * 2**i for i in range(stage_count(resolution) + 1)]
    return [(max(4, side // 16), side) for side in sides if side >= 32]


class FastGenerator(nn.Module):
    def __init__(self, *, resolution: int, latent_dim: int, channels: int, num_classes: int = 0) -> None:
        super().__init__()
        self.resolution = resolution
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.widths = _widths(resolution, channels)
        self.embed = None
        if num_classes:
            self.embed = nn.Embedding(num_classes, latent_dim)
            nn.init.normal_(self.embed.weight, 0.0, 0.1)  # see networks.Generator
        self.register_buffer("conditioning", torch.ones(()), persistent=False)
        input_dim = latent_dim * (2 if num_classes else 1)
        self.first = nn.Linear(input_dim, self.widths[4] * 2 * 16)
        self.first_norm = nn.BatchNorm2d(self.widths[4] * 2)
        self.glu = GLU()
        self.blocks = nn.ModuleDict(
            {str(big): UpBlock(self.widths[small], self.widths[big]) for small, big in itertools.pairwise(self.widths)}
        )
        self.pairs = excitation_pairs(resolution)
        self.excite = nn.ModuleDict(
            {str(big): SkipExcitation(self.widths[small], self.widths[big]) for small, big in self.pairs}
        )
        self.to_rgb = nn.Conv2d(self.widths[resolution], 3, 3, 1, 1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # z: [N, latent_dim], labels: [N] int64 -> images [N, 3, R, R] in [-1, 1]
        check_latents(z, self.latent_dim)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels) * self.conditioning], dim=1)
        h = self.first(z).reshape(z.shape[0], -1, 4, 4)
        features = {4: self.glu(self.first_norm(h))}  # [N, w4, 4, 4]
        side = 4
        sources = {big: small for small, big in self.pairs}
        while side < self.resolution:
            side *= 2
            h = self.blocks[str(side)](features[side // 2])
            if side in sources:
                h = self.excite[str(side)](features[sources[side]], h)
            features[side] = h
        return torch.tanh(self.to_rgb(features[self.resolution]))


def _sn(module: nn.Module) -> nn.Module:
    return parametrizations.spectral_norm(module)


class DownBlock(nn.Module):
    """FastGAN's DownBlockComp: a strided conv path and a pooled 1x1 path, averaged."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            _sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2, inplace=True),
            _sn(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2),
        )
        self.direct = nn.Sequential(
            nn.AvgPool2d(2, 2),
            _sn(nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.direct(x)) / 2  # [N, c_in, s, s] -> [N, c_out, s/2, s/2]


class Decoder(nn.Module):
    """D's self-supervision: 8x8 features -> a [N, 3, size, size] image in [-1, 1]."""

    def __init__(self, c_in: int, size: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        side, width = 8, c_in
        while side < size:
            out = max(16, width // 2)
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                _sn(nn.Conv2d(width, out * 2, 3, 1, 1, bias=False)),
                nn.BatchNorm2d(out * 2),
                GLU(),
            ]
            side, width = side * 2, out
        layers += [_sn(nn.Conv2d(width, 3, 3, 1, 1)), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.main(features)


class FastDiscriminator(nn.Module):
    def __init__(self, *, resolution: int, channels: int, num_classes: int = 0, mbstd_group: int = 0) -> None:
        super().__init__()
        self.resolution = resolution
        self.num_classes = num_classes
        # width per side: `channels` at R/2, doubling toward 4x4
        widths = {side: min(MAX_CHANNELS, channels * resolution // (2 * side)) for side in _widths(resolution, 1)}
        self.from_rgb = nn.Sequential(
            _sn(nn.Conv2d(3, widths[resolution // 2], 4, 2, 1, bias=False)), nn.LeakyReLU(0.2, inplace=True)
        )
        sides = sorted((side for side in widths if side < resolution), reverse=True)  # R/2 ... 4
        self.blocks = nn.ModuleList(DownBlock(widths[a], widths[b]) for a, b in itertools.pairwise(sides))
        self.mbstd = MinibatchStd(mbstd_group) if mbstd_group else None  # off: the old state dict
        extra = 1 if self.mbstd is not None else 0
        self.head = _sn(nn.Conv2d(widths[4] + extra, 1, 4, 1, 0, bias=False))  # [N, w4, 4, 4] -> [N, 1, 1, 1]
        self.recon_size = min(RECON_SIZE, resolution)
        self.decoder = Decoder(widths[8], self.recon_size)
        self.register_buffer("conditioning", torch.ones(()), persistent=False)
        self.embed = None
        if num_classes:
            embed = nn.Embedding(num_classes, widths[4])
            nn.init.normal_(embed.weight, 0.0, 0.02)
            self.embed = _sn(embed)

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor | None = None, *, reconstruct: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        # images [N, 3, R, R] -> logits [N] (and, with reconstruct, [N, 3, r, r] decoded from 8x8 features)
        check_images(images, self.resolution)
        h = self.from_rgb(images)
        features_8 = h if self.resolution == 16 else None
        for block in self.blocks:
            h = block(h)
            if h.shape[-1] == 8:
                features_8 = h
        logits = self.head(h if self.mbstd is None else self.mbstd(h)).flatten()
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            pooled = h.sum(dim=(2, 3))  # [N, w4]
            logits = logits + self.conditioning * (self.embed(labels) * pooled).sum(dim=1)
        if reconstruct:
            return logits, self.decoder(features_8)
        return logits


def build_fast_generator(config: GANConfig) -> FastGenerator:
    return FastGenerator(
        resolution=config.resolution,
        latent_dim=config.latent_dim,
        channels=config.g_channels,
        num_classes=config.num_classes if config.conditional else 0,
    )


def build_fast_discriminator(config: GANConfig) -> FastDiscriminator:
    return FastDiscriminator(
        resolution=config.resolution,
        channels=config.d_channels,
        num_classes=config.num_classes if config.conditional else 0,
        mbstd_group=config.mbstd_group,
    )
