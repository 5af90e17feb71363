"""The data layer: every source loads, and every bad input is one clear RecipeError."""

import gzip
import struct

import numpy as np
import pytest

from recipes import data
from recipes.common import RecipeError


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_sample_loads_as_nhwc_uint8_with_class_names():
    images = data.load_images("sample", "fashion-mnist")
    assert images.x_train.shape == (4000, 28, 28, 1) and images.x_train.dtype == np.uint8
    assert images.class_names[0] == "T-shirt/top" and images.num_classes == 10
    assert images.source == "sample:fashion-mnist"


def test_idx_directory_loads(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (20, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(20) % 10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (5, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(5))
    images = data.load_images(str(tmp_path), "mnist")
    assert images.x_train.shape == (20, 28, 28, 1) and images.y_test.tolist() == [0, 1, 2, 3, 4]


def test_npz_loads_colour_images(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "own.npz"
    np.savez(path, x_train=rng.random((12, 32, 32, 3)), y_train=np.arange(12) % 3,
             x_test=rng.random((3, 32, 32, 3)), y_test=np.arange(3))
    images = data.load_images(str(path))
    assert images.input_shape == (32, 32, 3) and images.num_classes == 3
    assert images.x_train.dtype == np.uint8 and images.x_train.max() > 1


def bad_npz(tmp_path, **overrides):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 255, (10, 8, 8)), y_train=np.arange(10) % 2,
                  x_test=rng.integers(0, 255, (4, 8, 8)), y_test=np.arange(4) % 2)
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("overrides, message", [
    ({"y_test": None}, "lacks y_test"),
    ({"x_train": np.zeros((10, 64))}, "x_train has shape"),
    ({"y_train": np.arange(9)}, "y_train has shape"),
    ({"y_train": np.linspace(0, 1, 10)}, "not integer labels"),
    ({"y_train": np.arange(10) - 1}, "negative labels"),
    ({"x_test": np.zeros((4, 9, 9))}, "train images are"),
])
def test_bad_npz_is_a_clear_error(tmp_path, overrides, message):
    with pytest.raises(RecipeError, match=message) as caught:
        data.load_images(str(bad_npz(tmp_path, **overrides)))
    assert caught.value.hint


def test_labels_out_of_range_for_the_named_classes(tmp_path):
    path = bad_npz(tmp_path, y_train=np.arange(10) + 5)  # labels up to 14
    with pytest.raises(RecipeError, match="out of range"):
        data.load_idx_dir  # noqa: B018 - keep the name checked by linters
        data.load_npz(path, class_names=data.MNIST_CLASSES)


def test_truncated_or_foreign_files(tmp_path):
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RecipeError, match="not a readable .npz"):
        data.load_images(str(tmp_path / "trunc.npz"))
    (tmp_path / "data.txt").write_text("hello")
    with pytest.raises(RecipeError, match="expected an .npz"):
        data.load_images(str(tmp_path / "data.txt"))
    with pytest.raises(RecipeError, match="has no train-images"):
        data.load_images(str(tmp_path))
    (tmp_path / "x").mkdir()
    for stem in data.IDX_NAMES.values():
        (tmp_path / "x" / stem).write_bytes(b"\x01\x02garbage")
    with pytest.raises(RecipeError, match="not a valid IDX file"):
        data.load_images(str(tmp_path / "x"))


def test_full_data_offline_is_one_clear_error(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    for dataset in ("mnist", "fashion-mnist"):
        with pytest.raises(RecipeError, match="could not download") as caught:
            data.load_images("full", dataset)
        assert "--data sample" in caught.value.hint and "--data PATH" in caught.value.hint


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"a,b\n", "no rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("x,y\n1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
])
def test_unreadable_csv_files(tmp_path, content, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(RecipeError, match=message):
        data.read_csv(path)


def test_missing_csv(tmp_path):
    with pytest.raises(RecipeError, match="no such file"):
        data.read_csv(tmp_path / "nope.csv")


def test_each_epochs_shuffle_depends_on_the_seed_and_the_epoch_alone():
    import tensorflow as tf

    x = np.arange(50, dtype="uint8").reshape(50, 1, 1, 1)
    y = np.arange(50)

    def orders(epochs, seed=3):
        """The label order of each epoch, read from a fresh pipeline as `fit` would."""
        epoch = tf.Variable(0, dtype=tf.int64)
        pipeline = data.image_dataset(x, y, 8, shuffle=True, seed=seed, epoch=epoch)
        seen = {}
        for number in epochs:
            epoch.assign(number)
            seen[number] = [int(label) for _, labels in pipeline for label in labels]
        return seen

    straight = orders([0, 1, 2, 3])
    assert all(sorted(order) == list(range(50)) for order in straight.values())  # each once
    assert len({tuple(order) for order in straight.values()}) == 4  # a new order each epoch
    assert orders([3])[3] == straight[3]  # a resumed run's epoch 3 is the uninterrupted one's
    assert orders([3], seed=4)[3] != straight[3]
    batch_x, batch_y = next(iter(data.image_dataset(x, y, 8, shuffle=True, seed=3,
                                                    epoch=tf.constant(0, tf.int64))))
    assert batch_x.dtype == tf.float32 and batch_y.dtype == tf.int32
    np.testing.assert_allclose(batch_x.numpy().ravel(), batch_y.numpy() / 255.0, rtol=1e-6)
