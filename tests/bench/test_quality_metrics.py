"""The math bench.quality reports: KID, FD, diversity ratios and the medians/ratios of the figure."""

import numpy as np
import pytest
import torch

from bench.features import ProbeNet, to_input
from bench.quality import ENTRY_KEYS, score, summarise
from bench.reference_dcgan import Discriminator, Generator, sample, train
from generation.gan.metrics import diversity_report, feature_statistics, frechet_distance


def test_identical_sets_have_zero_fd_and_samples_of_one_distribution_near_zero_kid():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8))
    assert abs(score(real=x, fake=x.copy(), kid_subsets=5)["fd"]) < 1e-8
    same = score(real=x, fake=rng.normal(size=(300, 8)), kid_subsets=20)["kid"]
    shifted = score(real=x, fake=rng.normal(size=(300, 8)) + 0.5, kid_subsets=20)["kid"]
    assert abs(same) < 0.05 * shifted


def test_shifted_gaussians_have_the_known_frechet_distance():
    rng = np.random.default_rng(1)
    shift = np.array([3.0, 0.0, -4.0, 0.0])  # |shift|^2 = 25
    a = rng.normal(size=(20_000, 4))
    b = rng.normal(size=(20_000, 4)) + shift
    assert frechet_distance(*feature_statistics(a), *feature_statistics(b)) == pytest.approx(25.0, rel=0.02)
    # scaled covariance: N(0, I) vs N(0, 4I) in d dims -> d * (1 + 4 - 2 * 2) = d
    c = rng.normal(size=(20_000, 4)) * 2
    assert frechet_distance(*feature_statistics(a), *feature_statistics(c)) == pytest.approx(4.0, rel=0.05)


def test_kid_grows_with_the_gap_between_sets():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(400, 16))
    near = score(real=real, fake=rng.normal(size=(400, 16)) + 0.2, kid_subsets=10)["kid"]
    far = score(real=real, fake=rng.normal(size=(400, 16)) + 1.0, kid_subsets=10)["kid"]
    same = score(real=real, fake=rng.normal(size=(400, 16)), kid_subsets=10)["kid"]
    assert abs(same) < near < far


def test_diversity_ratio_is_one_for_the_data_and_low_for_a_collapse():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(200, 10))
    labels = np.arange(200) % 4
    same = diversity_report(
        real_features=real, fake_features=rng.normal(size=(200, 10)), real_labels=labels, fake_labels=labels
    )
    assert same["overall_ratio"] == pytest.approx(1.0, abs=0.05)
    assert same["intra_class_ratio"] == pytest.approx(1.0, abs=0.08)
    # one image per class repeated: overall diversity survives, within-class diversity is 0
    collapsed = np.repeat(rng.normal(size=(4, 10)), 50, axis=0)
    report = diversity_report(
        real_features=real, fake_features=collapsed, real_labels=labels, fake_labels=np.repeat(np.arange(4), 50)
    )
    assert report["intra_class_ratio"] == pytest.approx(0.0, abs=1e-6)
    assert report["min_class_ratio"] == pytest.approx(0.0, abs=1e-6)
    assert report["overall_ratio"] > 0.5


def test_summary_takes_medians_over_seeds_then_their_ratios():
    def run(ref_kid, ate_kid, ref_fd, ate_fd, div):
        return {
            "reference_kid": ref_kid,
            "atelier_kid": ate_kid,
            "reference_fd": ref_fd,
            "atelier_fd": ate_fd,
            "atelier_diversity_ratio": div,
        }

    runs = {"glyphs@32": [run(0.10, 0.02, 10, 4, 0.9), run(0.20, 0.05, 30, 5, 1.0), run(0.30, 0.90, 20, 6, 1.3)]}
    entry = summarise(runs)["glyphs@32"]
    assert tuple(entry) == ENTRY_KEYS
    assert entry["reference_kid"] == 0.20 and entry["atelier_kid"] == 0.05
    assert entry["kid_ratio"] == pytest.approx(0.25)
    assert entry["fd_ratio"] == pytest.approx(5 / 20)
    assert entry["atelier_diversity_ratio"] == 1.0
    refused = summarise({"x@32": [run(0.1, None, 1.0, None, None)]})["x@32"]
    assert refused["kid_ratio"] is None and refused["atelier_kid"] is None


@pytest.mark.parametrize("resolution", [32, 64])
def test_reference_dcgan_has_the_examples_shapes_and_trains(resolution):
    g, d = Generator(resolution), Discriminator(resolution)
    z = torch.randn(2, 100, 1, 1)
    assert g(z).shape == (2, 3, resolution, resolution)
    assert d(g(z)).shape == (2,)
    if resolution == 64:  # pytorch/examples: 512-256-128-64 generator widths, 3.58M parameters
        assert sum(p.numel() for p in g.parameters()) == 3_576_704
    images = np.random.default_rng(0).integers(0, 256, (8, resolution, resolution, 3), dtype=np.uint8)
    net, stats = train(images=images, resolution=resolution, seconds=None, seed=0, max_steps=2)
    assert stats["steps"] == 2 and stats["images_seen"] == 16
    drawn = sample(net, count=5, seed=1)
    assert drawn.shape == (5, resolution, resolution, 3) and drawn.dtype == np.uint8
    assert np.array_equal(drawn, sample(net, count=5, seed=1))


def test_probe_net_embeds_32_and_64_px_alike():
    net = ProbeNet(16).eval()
    images = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    with torch.no_grad():
        assert net.features(to_input(images)).shape == (3, 256)
        assert to_input(images[:, ::2, ::2]).shape == to_input(images).shape


def test_the_probe_option_sets_the_feature_networks_training():
    from bench.quality import DEFAULT_PROBE, build_parser, plan_from_args, probe_from_text

    plan = plan_from_args(build_parser().parse_args(["--probe", "800x3"]))
    assert (plan.probe_size, plan.probe_epochs) == (800, 3)
    default = plan_from_args(build_parser().parse_args([]))
    assert (default.probe_size, default.probe_epochs) == probe_from_text(DEFAULT_PROBE) == (6400, 16)
    for bad in ("800", "x3", "8x3", "800x0", "800xthree"):
        with pytest.raises(SystemExit, match="--probe"):
            probe_from_text(bad)
