"""The planner's periodicity score: patterns rise again in their autocorrelation, pictures do not."""

import numpy as np
import pytest

from generation.gan.periodicity import PERIODIC_THRESHOLD, dataset_periodicity, image_periodicity, is_periodic

SIDE = 32


def _coords(angle: float, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    return xx * np.cos(angle) + yy * np.sin(angle), -xx * np.sin(angle) + yy * np.cos(angle)


def _rgb(grey: np.ndarray) -> np.ndarray:
    """[R, R] in [0, 1] -> [3, R, R] uint8, a two-colour palette"""
    low, high = np.array([40, 120, 60.0]), np.array([230, 200, 90.0])
    return (low[:, None, None] + (high - low)[:, None, None] * grey[None]).round().astype(np.uint8)


def _stripes(period: float, angle: float, side: int = SIDE) -> np.ndarray:
    u, _ = _coords(angle, side)
    return _rgb((np.floor(u / period) % 2).astype(np.float64))


def _checks(period: float, angle: float) -> np.ndarray:
    u, v = _coords(angle)
    return _rgb(((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float64))


def _disc(radius: float, centre: tuple[float, float]) -> np.ndarray:
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    return _rgb((np.hypot(xx - centre[0], yy - centre[1]) < radius).astype(np.float64))


def _sky(rng: np.random.Generator) -> np.ndarray:
    """a vertical gradient with a ridge of smooth noise: a landscape's structure"""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64) / SIDE
    ridge = 0.55 + 0.1 * np.interp(xx[0], np.linspace(0, 1, 5), rng.uniform(-1, 1, 5))
    return _rgb(np.where(yy > ridge[None, :], 0.1, 1 - yy * 0.6))


@pytest.mark.parametrize("period", [2, 3, 5, 7])  # half-cycles: repeats of 4 to 14 px, up to half the side
@pytest.mark.parametrize("angle", [0.0, 0.4, np.pi / 4, 1.3, np.pi / 2])
def test_stripes_and_checks_at_any_period_and_angle_score_as_periodic(period, angle):
    assert image_periodicity(_stripes(period, angle)[None])[0] >= PERIODIC_THRESHOLD
    assert image_periodicity(_checks(period, angle)[None])[0] >= PERIODIC_THRESHOLD


def test_pictures_and_noise_do_not():
    rng = np.random.default_rng(0)
    pictures = np.stack(
        [_disc(rng.uniform(4, 12), tuple(rng.uniform(8, 24, 2))) for _ in range(8)]
        + [_sky(rng) for _ in range(8)]
        + [rng.integers(0, 256, (3, SIDE, SIDE), dtype=np.uint8) for _ in range(8)]
    )
    scores = image_periodicity(pictures)
    assert scores.max() < PERIODIC_THRESHOLD, scores.round(2)
    assert not is_periodic(dataset_periodicity(pictures)) and not is_periodic(None)


def test_a_set_is_scored_by_its_median_in_either_layout_and_at_any_size():
    rng = np.random.default_rng(1)
    patterns = [_stripes(rng.uniform(3, 10), rng.uniform(0, np.pi)) for _ in range(7)]
    mostly_patterns = np.stack(patterns + [_disc(6, (16, 16)) for _ in range(3)])
    score = dataset_periodicity(mostly_patterns)
    assert is_periodic(score)
    assert dataset_periodicity(mostly_patterns.transpose(0, 2, 3, 1)) == pytest.approx(score)  # [N, R, R, 3]
    big = np.stack([_stripes(24, 0.3, side=256), _stripes(40, 1.0, side=256)])  # scored at 64 px
    assert is_periodic(dataset_periodicity(big))
    mostly_pictures = np.stack(patterns[:3] + [_disc(6, (10 + i, 16)) for i in range(7)])
    assert not is_periodic(dataset_periodicity(mostly_pictures))


def test_flat_and_empty_sets_score_zero_and_bad_shapes_are_refused():
    assert dataset_periodicity(np.full((4, 3, SIDE, SIDE), 128, dtype=np.uint8)) == 0.0
    assert dataset_periodicity(np.zeros((0, 3, SIDE, SIDE), dtype=np.uint8)) == 0.0
    with pytest.raises(ValueError, match="images must be"):
        image_periodicity(np.zeros((SIDE, SIDE), dtype=np.uint8))


def test_sets_are_scored_on_every_image_up_to_the_sample_and_evenly_beyond():
    from generation.gan.periodicity import SAMPLE, sample_indices

    assert sample_indices(0) == [] and sample_indices(1) == [0]
    assert sample_indices(10) == list(range(10))
    many = sample_indices(1000)
    assert len(many) == SAMPLE and many[0] == 0 and many[-1] == 999
    gaps = np.diff(many)
    assert gaps.min() >= 15 and gaps.max() <= 16  # evenly spread, not the first SAMPLE
