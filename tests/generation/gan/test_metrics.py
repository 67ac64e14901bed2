import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from generation.gan.metrics import (
    INCEPTION_WEIGHTS_ENV,
    compute_metrics,
    feature_statistics,
    frechet_distance,
    kernel_distance,
    torchscript_extractor,
)


class PooledColourFeatures(nn.Module):
    """A stand-in for the Inception detector with the same calling convention."""

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return F.adaptive_avg_pool2d(img.float() / 255.0, 4).flatten(1)  # [N, 3 * 4 * 4]


def _random_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q


def _images(seed: int, n: int = 40) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 16, 16, 3), dtype=np.uint8)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).standard_normal((500, 8))
    stats = feature_statistics(features)
    assert frechet_distance(*stats, *stats) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_matches_closed_form_for_gaussians_sharing_eigenvectors():
    rng = np.random.default_rng(1)
    q = _random_orthogonal(6, rng)
    var1, var2 = rng.uniform(0.2, 3.0, 6), rng.uniform(0.2, 3.0, 6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    sigma1, sigma2 = q @ np.diag(var1) @ q.T, q @ np.diag(var2) @ q.T
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_matches_closed_form_for_non_commuting_2x2_covariances():
    sigma1 = np.array([[2.0, 0.3], [0.3, 0.5]])
    sigma2 = np.array([[1.0, -0.4], [-0.4, 1.5]])
    mu1, mu2 = np.array([0.0, 1.0]), np.array([0.5, -1.0])
    # for 2x2 PSD M, tr(sqrt(M)) = sqrt(tr(M) + 2 sqrt(det(M)))
    product = sigma1 @ sigma2
    trace_sqrt = np.sqrt(np.trace(product) + 2 * np.sqrt(np.linalg.det(product)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_samples_approaches_the_gaussians_distance():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((40_000, 4))
    b = rng.standard_normal((40_000, 4)) * 2.0 + 0.5
    expected = 4 * 0.5**2 + 4 * (1.0 - 2.0) ** 2  # identity vs 4 * identity covariances
    measured = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    assert measured == pytest.approx(expected, rel=0.03)


def test_kid_is_about_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((400, 16)), rng.standard_normal((400, 16))
    same, same_std = kernel_distance(a, b, num_subsets=50, max_subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    shifted, _ = kernel_distance(a, b + 1.0, num_subsets=50, max_subset_size=200)
    assert shifted > 20 * max(abs(same), same_std)


def test_torchscript_extractor_file_gives_zero_fid_for_identical_sets(tmp_path):
    path = tmp_path / "extractor.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(PooledColourFeatures()).save(str(path))
    features = torchscript_extractor(path)(_images(0))
    assert features.shape == (40, 48)
    result = compute_metrics(real_images=_images(0), fake_images=_images(0), weights_path=path, kid_subsets=10)
    assert result.available and result.reason is None
    assert result.fid == pytest.approx(0.0, abs=1e-6)
    different = compute_metrics(real_images=_images(0), fake_images=_images(1) // 2, weights_path=path, kid_subsets=10)
    assert different.fid > 1e-3 and different.kid > 0


def test_weights_path_can_come_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "extractor.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(PooledColourFeatures()).save(str(path))
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(path))
    assert compute_metrics(real_images=_images(0), fake_images=_images(2), kid_subsets=5).available


def test_metric_is_unavailable_without_weights_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV, raising=False)
    result = compute_metrics(real_images=_images(0), fake_images=_images(1))
    assert not result.available and result.fid is None and result.kid is None
    assert INCEPTION_WEIGHTS_ENV in result.reason
    missing = compute_metrics(real_images=_images(0), fake_images=_images(1), weights_path=tmp_path / "none.pt")
    assert not missing.available and "not found" in missing.reason


def test_a_callable_extractor_can_be_plugged_in():
    def mean_colour(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1, 3).mean(axis=1)

    result = compute_metrics(real_images=_images(0), fake_images=_images(0), extractor=mean_colour, kid_subsets=5)
    assert result.available and result.fid == pytest.approx(0.0, abs=1e-9)


def test_class_fidelity_is_the_share_of_samples_nearest_their_own_classes_mean():
    from generation.gan.metrics import class_fidelity

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    real_labels = np.repeat(np.arange(3), 20)
    real = centres[real_labels] + rng.normal(0, 1, (60, 2))
    fake_labels = np.repeat(np.arange(3), 10)
    faithful = centres[fake_labels] + rng.normal(0, 1, (30, 2))
    one_class = centres[np.zeros(30, dtype=int)] + rng.normal(0, 1, (30, 2))  # every class drawn as class 0
    good = class_fidelity(real_features=real, real_labels=real_labels, fake_features=faithful, fake_labels=fake_labels)
    bad = class_fidelity(real_features=real, real_labels=real_labels, fake_features=one_class, fake_labels=fake_labels)
    assert good["samples"] == 1.0 and good["data"] == 1.0 and good["chance"] == pytest.approx(1 / 3)
    assert bad["samples"] == pytest.approx(1 / 3)  # only the class-0 requests land right
