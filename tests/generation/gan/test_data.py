import hashlib
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from generation.gan.data import (
    DatasetError,
    dataset_hash,
    load_image,
    load_prepared_dataset,
    prepare_dataset,
    write_toy_dataset,
)


def _file_bytes(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_toy_dataset_is_byte_identical_for_the_same_arguments(tmp_path):
    a = write_toy_dataset(out_dir=tmp_path / "a", classes=2, per_class=3, resolution=32, seed=5)
    b = write_toy_dataset(out_dir=tmp_path / "b", classes=2, per_class=3, resolution=32, seed=5)
    c = write_toy_dataset(out_dir=tmp_path / "c", classes=2, per_class=3, resolution=32, seed=6)
    assert _file_bytes(a) == _file_bytes(b)
    assert _file_bytes(a) != _file_bytes(c)
    assert sorted(p.name for p in a.iterdir()) == ["circle", "square"]
    assert Image.open(a / "circle" / "0000.png").size == (32, 32)


def test_class_subfolders_become_sorted_labels(toy_dataset):
    assert toy_dataset.class_names == ("circle", "square", "triangle")
    assert toy_dataset.images.shape == (24, 3, 32, 32) and toy_dataset.images.dtype == torch.uint8
    assert toy_dataset.labels.tolist() == [0] * 8 + [1] * 8 + [2] * 8


def test_flat_folder_is_one_class_named_after_it(tmp_path, toy_dir):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, path in enumerate(sorted((toy_dir / "circle").glob("*.png"))):
        shutil.copy(path, flat / f"img{i}.png")
    dataset = prepare_dataset(image_dir=flat, resolution=32)
    assert dataset.class_names == ("flat",)
    assert dataset.num_images == 8 and set(dataset.labels.tolist()) == {0}


def test_dataset_hash_is_sha256_of_sorted_image_hashes_and_ignores_names(tmp_path, toy_dir, toy_dataset):
    per_image = [hashlib.sha256(p.read_bytes()).hexdigest() for p in toy_dir.rglob("*.png")]
    expected = hashlib.sha256("\n".join(sorted(per_image)).encode()).hexdigest()
    assert toy_dataset.dataset_hash == expected == dataset_hash(per_image)
    renamed = shutil.copytree(toy_dir, tmp_path / "renamed")
    (renamed / "circle" / "0000.png").rename(renamed / "circle" / "zzz.png")
    assert prepare_dataset(image_dir=renamed, resolution=32).dataset_hash == toy_dataset.dataset_hash


def test_dataset_hash_changes_when_an_image_changes(tmp_path, toy_dir, toy_dataset):
    changed = shutil.copytree(toy_dir, tmp_path / "changed")
    Image.new("RGB", (32, 32), "red").save(changed / "circle" / "0000.png")
    assert prepare_dataset(image_dir=changed, resolution=32).dataset_hash != toy_dataset.dataset_hash


def test_exact_duplicates_are_kept_once(tmp_path, toy_dir):
    copy = shutil.copytree(toy_dir, tmp_path / "dupes")
    shutil.copy(copy / "circle" / "0000.png", copy / "circle" / "0000-copy.png")
    assert prepare_dataset(image_dir=copy, resolution=32).num_images == 24


def test_prepared_file_loads_back_identical(tmp_path, toy_dir):
    written = prepare_dataset(image_dir=toy_dir, resolution=32, out_path=tmp_path / "data.pt")
    loaded = load_prepared_dataset(tmp_path / "data.pt")
    assert torch.equal(loaded.images, written.images) and torch.equal(loaded.labels, written.labels)
    assert (loaded.class_names, loaded.dataset_hash, loaded.resolution) == (
        written.class_names,
        written.dataset_hash,
        32,
    )


def test_images_are_centre_cropped_and_resized(tmp_path):
    wide = np.zeros((40, 80, 3), dtype=np.uint8)
    wide[:, 20:60] = 255  # the central square is white, the sides black
    Image.fromarray(wide).save(tmp_path / "wide.png")
    out = load_image(tmp_path / "wide.png", resolution=16)
    assert out.shape == (3, 16, 16)
    assert out[:, :, 1:-1].min() >= 250  # the black sides were cropped (Lanczos may bleed into the edge)
    assert out.mean() >= 250


def test_transparency_is_flattened_onto_white(tmp_path):
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png", resolution=8).min() == 255


def test_missing_folder_empty_folder_and_mixed_layout_are_rejected(tmp_path, toy_dir):
    with pytest.raises(DatasetError, match="not found"):
        prepare_dataset(image_dir=tmp_path / "nope", resolution=32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        prepare_dataset(image_dir=tmp_path / "empty", resolution=32)
    mixed = shutil.copytree(toy_dir, tmp_path / "mixed")
    shutil.copy(mixed / "circle" / "0000.png", mixed / "loose.png")
    with pytest.raises(DatasetError, match="mixes"):
        prepare_dataset(image_dir=mixed, resolution=32)


def test_corrupt_image_is_reported_by_path(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match="broken.png"):
        prepare_dataset(image_dir=folder, resolution=32)


def test_a_file_that_is_not_a_prepared_dataset_is_rejected(tmp_path):
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(DatasetError, match="not a prepared dataset"):
        load_prepared_dataset(tmp_path / "other.pt")
