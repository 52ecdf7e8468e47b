"""Dataset loading: class order, resizing, face regions and the bad-data errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_artifact import crop_region
from training.data import DataError, load_dataset, parse_class_map, prepare


def test_loads_any_size_in_task_class_order(make_image_folder):
    root = make_image_folder(["sadness", "anger", "happiness"], subjects=3, size=(70, 50))
    ds = load_dataset(root, task="micro", size=32)
    assert ds.classes == ["anger", "happiness", "sadness"]  # the task's order, not the disk's
    assert ds.images.shape == (9, 32, 32) and ds.images.dtype == np.uint8
    assert ds.class_counts() == {"anger": 3, "happiness": 3, "sadness": 3}
    assert sorted(set(ds.subjects)) == ["S010", "S011", "S012"]
    # labels follow the folder each file came from
    for label, path in zip(ds.labels, ds.paths, strict=True):
        assert path.parent.name == ds.classes[label]


def test_other_formats_and_colour_are_read_as_grey(tmp_path):
    for cls in ("anger", "sadness"):
        (tmp_path / cls).mkdir()
        rgb = np.zeros((40, 40, 3), np.uint8)
        rgb[..., 0] = 200
        Image.fromarray(rgb).save(tmp_path / cls / "S001_001_00000001.jpg")
        Image.fromarray(rgb[..., 0]).save(tmp_path / cls / "S002_001_00000001.bmp")
    ds = load_dataset(tmp_path, task="micro", size=48)
    assert ds.images.shape == (4, 48, 48)
    # red 200 → luma ≈ 0.299 * 200
    assert 50 <= int(ds.images[0].mean()) <= 70


def test_upper_region_is_the_shared_crop_then_resize():
    face = np.arange(100 * 80, dtype=np.uint32).reshape(100, 80).astype(np.uint8)
    out = prepare(face, 48, "upper")
    region = crop_region(face, "upper")
    assert region.shape[0] < face.shape[0]
    import cv2

    np.testing.assert_array_equal(out, cv2.resize(region, (48, 48), interpolation=cv2.INTER_AREA))
    assert not np.array_equal(out, prepare(face, 48, "full"))


def test_unreadable_images_are_skipped_and_counted(make_image_folder):
    root = make_image_folder(["anger", "sadness"], subjects=3)
    (root / "anger" / "S099_001_00000001.png").write_bytes(b"not an image at all")
    (root / "sadness" / "S099_001_00000002.jpg").write_bytes(b"\xff\xd8\xff truncated")
    ds = load_dataset(root, task="micro", size=24)
    assert len(ds) == 6
    assert sorted(p.name for p in ds.skipped) == ["S099_001_00000001.png", "S099_001_00000002.jpg"]


def test_class_map_builds_the_masked_proxy(make_image_folder):
    root = make_image_folder(["anger", "contempt", "sadness"], subjects=2)
    mapping = parse_class_map(["happy_but_angry=anger", "happy_but_sad=sadness"])
    ds = load_dataset(root, task="masked", size=24, face_region="upper", class_map=mapping)
    assert ds.classes == ["happy_but_angry", "happy_but_sad"]
    assert len(ds) == 4  # contempt is not mapped, so not used
    assert {p.parent.name for p in ds.paths} == {"anger", "sadness"}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.mkdir(), "no class sub-folders"),
        (lambda root: (root / "anger").mkdir(parents=True), "at least 2 classes"),
        (
            lambda root: [(root / c).mkdir(parents=True) for c in ("anger", "sadness")],
            "no readable images",
        ),
        (lambda root: [(root / c).mkdir(parents=True) for c in ("anger", "cats")], "not micro"),
    ],
    ids=["missing", "empty", "one-class", "no-images", "unknown-class"],
)
def test_bad_folders_raise_clear_errors(tmp_path: Path, setup, message):
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(DataError, match=message):
        load_dataset(root, task="micro", size=24)


def test_class_without_readable_images_is_an_error(make_image_folder):
    root = make_image_folder(["anger", "sadness"], subjects=2)
    (root / "disgust").mkdir()
    (root / "disgust" / "S001_001_00000001.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="disgust"):
        load_dataset(root, task="micro", size=24)


def test_subject_regex(make_image_folder):
    root = make_image_folder(["anger", "sadness"], subjects=2)
    with pytest.raises(DataError, match="subject id"):
        load_dataset(root, task="micro", size=24, subject_regex=r"^person(\d+)")
    ds = load_dataset(root, task="micro", size=24, subject_regex=r"^S(\d+)_(\d+)")
    assert sorted(set(ds.subjects)) == ["010", "011"]
    # a random split does not need subjects: the file name stands in
    ds = load_dataset(root, task="micro", size=24, subject_regex=r"^x", require_subjects=False)
    assert len(set(ds.subjects)) == len(ds)


def test_bad_class_map():
    with pytest.raises(DataError, match="CLASS=FOLDER"):
        parse_class_map(["anger"])
