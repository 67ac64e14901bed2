"""The image sets bench.quality trains on: deterministic, cached by content, labelled where natural."""

import hashlib

import numpy as np
import pytest

from bench import quality_sets
from bench.quality_sets import BUILDERS, GLYPH_CLASSES, load_folder, materialise, png_bytes


def _digests(name: str, count: int, seed: int) -> list[str]:
    return [hashlib.sha256(png_bytes(sample.image)).hexdigest() for sample in BUILDERS[name](count, seed)]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_are_deterministic_and_seeded(name):
    first = _digests(name, 12, 0)
    assert first == _digests(name, 12, 0)
    assert first != _digests(name, 12, 1)
    assert len(set(first)) == len(first), "every image differs from every other"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_images_are_rgb_squares_with_content(name):
    for sample in BUILDERS[name](6, 3):
        array = np.asarray(sample.image)
        assert array.shape == (quality_sets.SIDE, quality_sets.SIDE, 3)
        assert array.std() > 5, "not a flat colour"


def test_glyphs_cycle_through_their_classes():
    labels = [sample.label for sample in BUILDERS["glyphs"](25, 0)]
    assert labels[: len(GLYPH_CLASSES)] == list(GLYPH_CLASSES)
    assert set(labels) == set(GLYPH_CLASSES)


def test_probe_set_shares_no_class_with_the_generated_sets():
    probe_labels = {sample.label for sample in BUILDERS["probe"](40, 0)}
    assert not probe_labels & set(GLYPH_CLASSES)
    assert {"rings", "voronoi", "digit0"} <= probe_labels


def test_materialise_writes_once_and_reuses(tmp_path):
    folder = materialise(name="glyphs", count=20, seed=0, root=tmp_path, resolution=32)
    images, labels, names = load_folder(folder)
    assert images.shape == (20, 32, 32, 3)
    assert names == sorted(GLYPH_CLASSES)
    assert sorted(np.bincount(labels).tolist()) == [2] * 10
    marker = folder / ".complete"
    stamp = marker.stat().st_mtime_ns
    assert materialise(name="glyphs", count=20, seed=0, root=tmp_path, resolution=32) == folder
    assert marker.stat().st_mtime_ns == stamp
    unlabelled, none, no_names = load_folder(materialise(name="textiles", count=5, seed=0, root=tmp_path))
    assert unlabelled.shape == (5, 64, 64, 3) and none is None and no_names == []


def test_a_different_count_or_seed_is_a_different_folder(tmp_path):
    a = materialise(name="landscapes", count=4, seed=0, root=tmp_path)
    assert materialise(name="landscapes", count=5, seed=0, root=tmp_path) != a
    assert materialise(name="landscapes", count=4, seed=1, root=tmp_path) != a
