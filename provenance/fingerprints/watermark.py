"""An invisible watermark carrying a 48-bit record key, robust to re-encoding and rescaling.

Embedding is invisible-watermark's DWT-DCT-SVD: in the Haar DWT's low band of luma (Y) and of the V chroma
channel, every 4x4 block's DCT has its largest singular value quantised to carry one bit (quantisation index
modulation, a step per channel in `STRENGTHS`). Y survives JPEG (PIL subsamples chroma 4:2:0 and quantises it
coarsely), V survives blurs and resizes better, and V costs the least PSNR per step (U the most): measured at
128 px, Y+V beat U+V (the first version) and Y+U+V at equal PSNR. What we add around it, because a bare
payload does not survive a JPEG re-save (probes-2026-12):

- error correction: the key plus a CRC-16 (64 bits) go through the standard rate-1/2 convolutional code
  (constraint length 7, generators 133/171 octal) and come back through a soft-decision Viterbi decoder;
- soft repetition: each channel carries the 140 coded bits on its own 12x12-block tile (own interleaver)
  repeated over the whole image, and extraction sums a soft score per block (how close the singular value
  sits to each bit's quantisation centre) over every repetition, then combines the two channels with a few
  weightings in turn (`COMBINATIONS`: an edit may spoil one channel only);
- synchronisation: the tile is periodic, so a crop only shifts it; extraction tries every pixel alignment of
  the block grid and every tile offset, keeps the few with the most coherent votes, and accepts a key only
  when its CRC checks. (Callers should also check that the key names a real record.)

No Django here, no model weights: numpy, PyWavelets and OpenCV (invisible-watermark's own dependencies).
"""

import binascii
from dataclasses import dataclass

import cv2
import numpy as np
import pywt
from PIL import Image

KEY_BYTES = 6  # 48 bits
CHANNELS = (0, 2)  # Y and V (measured, see the module docstring)
STRENGTHS = {0: 44.0, 2: 54.0}  # QIM step on the singular value per channel (the library's default is 36)
BLOCK = 4  # in the DWT low band: 8x8 pixels
PIXELS_PER_BLOCK = 2 * BLOCK
TILE = 12  # blocks per tile side: 144 slots per channel for the 140 coded bits (4 carried twice)
CANDIDATES = 4  # alignments and tile offsets fully decoded, best vote coherence first
MIN_SIDE = TILE * PIXELS_PER_BLOCK  # one whole tile: smaller images cannot carry the key
MIN_SEARCH_BLOCKS = TILE - 2  # a cropped copy may hold a little less than a tile: the slots it lacks are erasures
MIN_READ_SIDE = MIN_SEARCH_BLOCKS * PIXELS_PER_BLOCK  # extraction reads copies down to this size
DECODE_WINDOW = 2 * MIN_SIDE + PIXELS_PER_BLOCK  # extraction reads at most this much (the tile repeats)

_G1, _G2, _CONSTRAINT = 0o133, 0o171, 7
_STATES = 1 << (_CONSTRAINT - 1)
INFO_BITS = KEY_BYTES * 8 + 16
CODED_BITS = 2 * (INFO_BITS + _CONSTRAINT - 1)  # 140
# slot -> coded bit, one interleaver per channel, so a block's neighbours (which a blur or a JPEG block mixes)
# carry different bits in each channel
_INTERLEAVERS = {
    channel: np.random.default_rng(0xA7E11E + channel).permutation(TILE * TILE) % CODED_BITS for channel in CHANNELS
}
# channel weightings tried in turn (Y, V): both alike, then each leading, for edits that spoil one channel
# (a strong JPEG's chroma subsampling and quantisation, a blur's luma edges)
COMBINATIONS = ((1.0, 1.0), (1.0, 0.3), (0.3, 1.0))
_DCT4 = cv2.dct(np.eye(BLOCK, dtype=np.float64))  # orthonormal DCT-II matrix, the transform cv2.dct applies
_UNIT = np.eye(BLOCK)[0]


class WatermarkError(ValueError):
    pass


@dataclass(frozen=True)
class Extracted:
    key: bytes
    confidence: float  # mean |soft vote| of the tile that decoded (0 = noise, 1 = untouched)
    offset: tuple[int, int]  # pixel alignment (rows, columns) where the grid was found


# --- the error-correcting code ------------------------------------------------------------------------------


def _parity(value: int) -> int:
    return value.bit_count() & 1


def _crc(key: bytes) -> bytes:
    return binascii.crc_hqx(key, 0xFFFF).to_bytes(2, "big")


def _bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.uint8)


def encode_key(key: bytes) -> np.ndarray:
    """48-bit key -> 140 coded bits (key, CRC-16, six tail zeros; convolutional code)."""
    if len(key) != KEY_BYTES:
        raise WatermarkError(f"the key must be {KEY_BYTES} bytes, got {len(key)}")
    info = np.concatenate([_bits(key + _crc(key)), np.zeros(_CONSTRAINT - 1, dtype=np.uint8)])
    out, state = [], 0
    for bit in info:
        register = (int(bit) << (_CONSTRAINT - 1)) | state
        out += [_parity(register & _G1), _parity(register & _G2)]
        state = register >> 1
    return np.array(out, dtype=np.uint8)


def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each next state: its two predecessor states and the +-1 outputs of the two branches."""
    previous = np.zeros((_STATES, 2), dtype=np.int64)
    outputs = np.zeros((_STATES, 2, 2), dtype=np.float64)
    for next_state in range(_STATES):
        bit = next_state >> (_CONSTRAINT - 2)
        for choice in range(2):
            state = ((next_state << 1) & (_STATES - 1)) | choice
            register = (bit << (_CONSTRAINT - 1)) | state
            previous[next_state, choice] = state
            outputs[next_state, choice] = [2 * _parity(register & _G1) - 1, 2 * _parity(register & _G2) - 1]
    return previous, outputs


_PREVIOUS, _OUTPUTS = _trellis()


def decode_soft(soft: np.ndarray) -> bytes | None:
    """Soft Viterbi decoding of 140 scores (positive: bit 1); the key if its CRC checks, else None."""
    steps = len(soft) // 2
    pairs = np.asarray(soft, dtype=np.float64).reshape(steps, 2)
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    choices = np.zeros((steps, _STATES), dtype=np.int8)
    for step in range(steps):
        candidates = metric[_PREVIOUS] + _OUTPUTS @ pairs[step]  # (states, 2)
        choices[step] = np.argmax(candidates, axis=1)
        metric = candidates[np.arange(_STATES), choices[step]]
    state, bits = 0, []  # the tail returns the encoder to state 0
    for step in range(steps - 1, -1, -1):
        bits.append(state >> (_CONSTRAINT - 2))
        state = int(_PREVIOUS[state, choices[step, state]])
    info = np.packbits(np.array(bits[::-1][:INFO_BITS], dtype=np.uint8)).tobytes()
    key, crc = info[:KEY_BYTES], info[KEY_BYTES:]
    return key if _crc(key) == crc else None


# --- embedding and extraction -------------------------------------------------------------------------------


def _to_yuv(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV).astype(np.float64) * 255.0


def _slot_bits(rows: int, cols: int, coded: np.ndarray, channel: int) -> np.ndarray:
    """The coded bit each block of `channel` carries, from its position on the repeating tile."""
    slot = (np.arange(rows)[:, None] % TILE) * TILE + (np.arange(cols)[None, :] % TILE)
    return coded.astype(np.int16)[_INTERLEAVERS[channel][slot]]


def embed(image: Image.Image, *, key: bytes, strength: float = 1.0) -> Image.Image:
    """The image (RGB) with `key` embedded; images under MIN_SIDE pixels a side cannot carry it. `strength`
    scales every channel's QIM step (1.0: the tuned STRENGTHS; extraction must be told the same scale)."""
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise WatermarkError(f"{width}x{height} is too small to carry a watermark (at least {MIN_SIDE} px a side)")
    coded = encode_key(key)
    yuv = _to_yuv(image)
    rows, cols = height // PIXELS_PER_BLOCK, width // PIXELS_PER_BLOCK
    region = (slice(0, rows * PIXELS_PER_BLOCK), slice(0, cols * PIXELS_PER_BLOCK))
    for channel in CHANNELS:
        low, (horizontal, vertical, diagonal) = pywt.dwt2(yuv[region + (channel,)], "haar")
        low = _diffuse(low, _slot_bits(rows, cols, coded, channel), STRENGTHS[channel] * strength)
        yuv[region + (channel,)] = pywt.idwt2((low, (horizontal, vertical, diagonal)), "haar")
    rgb = cv2.cvtColor((yuv / 255.0).astype(np.float32), cv2.COLOR_YUV2RGB) * 255.0
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


def _diffuse(low: np.ndarray, carried: np.ndarray, strength: float) -> np.ndarray:
    """invisible-watermark's EmbedDwtDctSvd.diffuse_dct_svd on every carrying block at once (numpy-batched; a
    test checks it equals the library's per-block call)."""
    rows, cols = carried.shape
    blocks = low[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3)
    dct = _DCT4 @ blocks @ _DCT4.T
    # Only the largest singular value changes, so the new block is a rank-one update along its singular
    # vectors; those come from the 4x4 eigenproblem of DᵀD, ~10x faster batched than a full SVD.
    right = np.linalg.eigh(np.swapaxes(dct, -1, -2) @ dct)[1][..., :, -1]
    image_of_right = (dct @ right[..., None])[..., 0]
    largest = np.linalg.norm(image_of_right, axis=-1)
    left = np.divide(
        image_of_right,
        largest[..., None],
        out=np.broadcast_to(_UNIT, image_of_right.shape).copy(),
        where=largest[..., None] > 1e-12,
    )  # a flat (all-zero) block has no direction of its own: any unit vector carries the value
    bits = np.maximum(carried, 0)
    target = (largest // strength + 0.25 + 0.5 * bits) * strength
    dct = dct + (target - largest)[..., None, None] * left[..., :, None] * right[..., None, :]
    diffused = _DCT4.T @ dct @ _DCT4
    blocks = np.where((carried >= 0)[..., None, None], diffused, blocks)
    out = low.copy()
    out[: rows * BLOCK, : cols * BLOCK] = blocks.transpose(0, 2, 1, 3).reshape(rows * BLOCK, cols * BLOCK)
    return out


def _block_scores(plane: np.ndarray, strength: float) -> np.ndarray:
    """Soft score per 4x4 low-band block: +1 at bit 1's quantisation centre, -1 at bit 0's (the quantity
    invisible-watermark's infer_dct_svd thresholds, kept soft)."""
    low = pywt.dwt2(plane, "haar")[0]
    rows, cols = low.shape[0] // BLOCK, low.shape[1] // BLOCK
    blocks = low[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3)
    dct = _DCT4 @ blocks @ _DCT4.T
    largest = np.sqrt(np.maximum(np.linalg.eigvalsh(np.swapaxes(dct, -1, -2) @ dct)[..., -1], 0.0))
    return -np.sin(2 * np.pi * (largest % strength) / strength)


def _channel_scores(yuv: np.ndarray, strength: float) -> list[np.ndarray]:
    return [_block_scores(_crop_to_blocks(yuv[..., c]), STRENGTHS[c] * strength) for c in CHANNELS]


def _decode_combinations(per_channel: list[np.ndarray]) -> bytes | None:
    """Soft-combine the channels' votes, trying each weighting in COMBINATIONS; the first key whose CRC checks."""
    for weights in COMBINATIONS:
        key = decode_soft(sum(w * votes for w, votes in zip(weights, per_channel, strict=True)))
        if key is not None:
            return key
    return None


def extract(image: Image.Image, *, strength: float = 1.0, search: bool = True) -> Extracted | None:
    """The embedded key, or None when no tile decodes with a valid CRC. `search=False` reads only the grid where
    embed put it (an uncropped copy: a few ms), skipping the search over alignments a crop needs."""
    width, height = image.size
    if min(width, height) < MIN_READ_SIDE:
        return None
    yuv = _to_yuv(image)
    # a window on the block grid we embedded (multiples of 8 px from the corner), so the fast path aligns
    top = max(0, (height - DECODE_WINDOW) // 2) // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK
    left = max(0, (width - DECODE_WINDOW) // 2) // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK
    yuv = yuv[top : top + DECODE_WINDOW, left : left + DECODE_WINDOW]
    shift = ((top // PIXELS_PER_BLOCK) % TILE, (left // PIXELS_PER_BLOCK) % TILE)
    aligned = _tile_votes(_channel_scores(yuv, strength), *shift)
    key = _decode_combinations(aligned)  # the common case first: an uncropped copy, grid where we put it
    if key is not None:
        return Extracted(key=key, confidence=_coherence(aligned), offset=(top, left))
    if not search:
        return None
    trials = []
    for dy in range(PIXELS_PER_BLOCK):
        for dx in range(PIXELS_PER_BLOCK):
            rows = (yuv.shape[0] - dy) // PIXELS_PER_BLOCK
            cols = (yuv.shape[1] - dx) // PIXELS_PER_BLOCK
            if min(rows, cols) < MIN_SEARCH_BLOCKS:
                continue
            window = yuv[dy : dy + rows * PIXELS_PER_BLOCK, dx : dx + cols * PIXELS_PER_BLOCK]
            every_shift = _votes_at_every_shift(_channel_scores(window, strength))  # (channels, shifts, bits)
            coherence = np.abs(every_shift.sum(axis=0)).mean(axis=1) / len(CHANNELS)
            trials += [(float(coherence[i]), (dy + top, dx + left), every_shift[:, i]) for i in range(TILE * TILE)]
    trials.sort(key=lambda trial: -trial[0])
    for coherence, offset, votes in trials[:CANDIDATES]:
        key = _decode_combinations(list(votes))
        if key is not None:
            return Extracted(key=key, confidence=coherence, offset=offset)
    return None


# _SHIFTED[k, s]: the folded-tile slot whose blocks count as slot s at shift k = (shift_y, shift_x)
_SHIFT_Y, _SHIFT_X = np.divmod(np.arange(TILE * TILE), TILE)
_SLOT_Y, _SLOT_X = np.divmod(np.arange(TILE * TILE), TILE)
_SHIFTED = ((_SLOT_Y[None, :] - _SHIFT_Y[:, None]) % TILE) * TILE + (_SLOT_X[None, :] - _SHIFT_X[:, None]) % TILE
# (shift, coded bit) of each (shift, slot), flattened for one bincount per channel
_SHIFT_BIT = {
    channel: (np.arange(TILE * TILE)[:, None] * CODED_BITS + _INTERLEAVERS[channel][None, :]).ravel()
    for channel in CHANNELS
}


def _votes_at_every_shift(scores: list[np.ndarray]) -> np.ndarray:
    """_tile_votes for all TILE x TILE shifts at once: fold the blocks onto one tile (block (i, j) on slot
    (i % T, j % T)), then a shift only permutes the folded slots. (channels, shifts, coded bits)."""
    rows, cols = scores[0].shape
    repetitions = max(1.0, rows * cols / (TILE * TILE))
    folded_index = ((np.arange(rows)[:, None] % TILE) * TILE + (np.arange(cols)[None, :] % TILE)).ravel()
    out = []
    for channel, channel_scores in zip(CHANNELS, scores, strict=True):
        folded = np.bincount(folded_index, weights=channel_scores.ravel(), minlength=TILE * TILE)
        votes = np.bincount(_SHIFT_BIT[channel], weights=folded[_SHIFTED].ravel(), minlength=TILE * TILE * CODED_BITS)
        out.append(votes.reshape(TILE * TILE, CODED_BITS) / repetitions)
    return np.stack(out)


def _coherence(per_channel: list[np.ndarray]) -> float:
    return float(np.abs(sum(per_channel)).mean()) / len(per_channel)


def _crop_to_blocks(plane: np.ndarray) -> np.ndarray:
    rows, cols = plane.shape[0] // PIXELS_PER_BLOCK, plane.shape[1] // PIXELS_PER_BLOCK
    return plane[: rows * PIXELS_PER_BLOCK, : cols * PIXELS_PER_BLOCK]


def _tile_votes(scores: list[np.ndarray], shift_y: int, shift_x: int) -> list[np.ndarray]:
    """Per channel, sum the block scores per coded bit, taking block (i, j) as tile slot ((i+shift_y)%T,
    (j+shift_x)%T); scaled by the number of tile repetitions, so an untouched copy votes about +-1 (more for the
    slots carried twice) whatever the image size."""
    rows, cols = scores[0].shape
    slot = (
        ((np.arange(rows)[:, None] + shift_y) % TILE) * TILE + ((np.arange(cols)[None, :] + shift_x) % TILE)
    ).ravel()
    repetitions = max(1.0, rows * cols / (TILE * TILE))
    return [
        np.bincount(_INTERLEAVERS[channel][slot], weights=channel_scores.ravel(), minlength=CODED_BITS) / repetitions
        for channel, channel_scores in zip(CHANNELS, scores, strict=True)
    ]


def psnr(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
