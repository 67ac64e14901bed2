"""Diversity: mean pairwise feature distance of samples against the data's, overall and within classes."""

import numpy as np
import pytest

from generation.gan.metrics import (
    diversity,
    diversity_metrics,
    diversity_report,
    mean_pairwise_distance,
    random_features_extractor,
)


def test_mean_pairwise_distance_of_known_points():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]])  # distances 5, 8, 5
    assert mean_pairwise_distance(points) == pytest.approx(6.0)
    assert mean_pairwise_distance(points[:1]) == 0.0


def test_intra_class_diversity_averages_the_classes():
    features = np.array([[0.0], [2.0], [10.0], [11.0]])
    labels = np.array([0, 0, 1, 1])
    result = diversity(features, labels)
    assert result["per_class"] == {0: 2.0, 1: 1.0} and result["intra_class"] == 1.5


def test_report_ratios_and_a_collapsed_class_shows_as_the_minimum():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 8))
    real_labels = np.arange(60) % 3
    fake = rng.normal(size=(60, 8))
    fake_labels = np.arange(60) % 3
    fake[fake_labels == 2] = fake[2]  # class 2: one image, repeated
    report = diversity_report(real_features=real, fake_features=fake, real_labels=real_labels, fake_labels=fake_labels)
    assert 0.8 < report["overall_ratio"] < 1.2
    assert report["min_class_ratio"] == 0.0
    assert 0.5 < report["intra_class_ratio"] < 0.8  # two classes near 1, one at 0
    unlabelled = diversity_report(real_features=real, fake_features=fake)
    assert unlabelled["intra_class_ratio"] is None


def test_random_features_are_deterministic_and_tell_images_apart():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    first, again = random_features_extractor()(images), random_features_extractor()(images)
    assert first.shape[0] == 6 and np.array_equal(first, again)
    same = diversity_metrics(real_images=images, fake_images=np.repeat(images[:1], 6, axis=0))
    assert same["samples_overall"] == pytest.approx(0.0, abs=1e-4) and same["data_overall"] > 0
