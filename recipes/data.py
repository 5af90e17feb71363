"""One data layer for every recipe: `--data sample | full | PATH`.

- ``sample`` (default): a small real sample shipped with the project; works offline.
- ``full``: the full real dataset, downloaded once with `keras.utils.get_file` (or
  `keras.datasets`) and checked against its sha256, cached under KERAS_HOME.
- a PATH: your own data. Images: an ``.npz`` with x_train/y_train/x_test/y_test, or a
  directory of MNIST-format IDX files (``train-images-idx3-ubyte[.gz]`` ...).
  Tables and series: a CSV file.

Every failure a user can cause ends in a `RecipeError` naming the problem and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recipes.common import RecipeError

SOURCES_HELP = "'sample' (shipped, offline), 'full' (download once), or a PATH to your own data"


def datasets_dir() -> Path:
    """Where the shipped samples are: ./datasets in a checkout, in the package once installed."""
    override = os.environ.get("KERAS_RECIPES_DATA")
    candidates = [Path(override)] if override else []
    here = Path(__file__).resolve().parent
    candidates += [here / "_datasets", here.parent / "datasets", here / "datasets"]
    for candidate in candidates:
        if (candidate / "SHA256SUMS").is_file():
            return candidate
    raise RecipeError(
        "the shipped sample data is missing from this installation",
        hint="reinstall keras-recipes, or set KERAS_RECIPES_DATA to a folder holding the samples",
    )


def shipped_file(name: str) -> Path:
    path = datasets_dir() / name
    if not path.is_file():
        raise RecipeError(f"shipped sample {name} is missing", hint="reinstall keras-recipes")
    return path


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]

# Fashion-MNIST as keras.datasets serves it. keras.datasets.fashion_mnist checks no
# hash, so we fetch the files ourselves and check the sha256 of their decompressed
# IDX bytes (the gzip wrappers differ between mirrors; the data does not).
FASHION_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_IDX_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass
class ImageData:
    """Images as uint8 (N, H, W, C) and integer labels, split into train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    extra: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def limit(self, max_train: int | None = None, max_test: int | None = None) -> ImageData:
        """The first examples only, for quick runs (`--max-samples`)."""
        return ImageData(self.x_train[:max_train], self.y_train[:max_train],
                         self.x_test[:max_test], self.y_test[:max_test],
                         self.class_names, self.source, self.extra)


IMAGE_DATASETS = {
    "mnist": {"sample": "mnist_sample.npz", "classes": MNIST_CLASSES},
    "fashion-mnist": {"sample": "fashion_mnist_sample.npz", "classes": FASHION_CLASSES},
    "cifar10": {"sample": None, "classes": CIFAR10_CLASSES},
}


def load_images(source: str = "sample", dataset: str = "mnist") -> ImageData:
    """Loads an image classification dataset from the shipped sample, the full set or a path."""
    if dataset not in IMAGE_DATASETS:
        raise RecipeError(f"unknown dataset {dataset!r}",
                          hint=f"choose one of: {', '.join(IMAGE_DATASETS)}")
    info = IMAGE_DATASETS[dataset]
    if source == "sample":
        if info["sample"] is None:
            raise RecipeError(f"no shipped sample of {dataset}",
                              hint="use --data full to download it, or --dataset mnist")
        data = load_npz(shipped_file(info["sample"]), class_names=info["classes"])
        data.source = f"sample:{dataset}"
        return data
    if source == "full":
        return _load_full(dataset)
    path = Path(source)
    if not path.exists():
        raise RecipeError(f"--data {source}: no such file or directory",
                          hint="give 'sample', 'full', an .npz file or a directory of IDX files")
    if path.is_dir():
        return load_idx_dir(path, class_names=info["classes"])
    if path.suffix == ".npz":
        return load_npz(path)
    raise RecipeError(f"--data {source}: expected an .npz file or a directory of IDX files",
                      hint="save your arrays with np.savez(path, x_train=..., y_train=..., "
                           "x_test=..., y_test=...)")


def load_npz(path: Path, class_names: list[str] | None = None) -> ImageData:
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in keys if k not in archive.files]
            if missing:
                raise RecipeError(f"{path} lacks {', '.join(missing)}",
                                  hint=f"the .npz must hold the arrays {', '.join(keys)}")
            arrays = {k: archive[k] for k in keys}
            if class_names is None and "class_names" in archive.files:
                class_names = [str(c) for c in archive["class_names"]]
    except RecipeError:
        raise
    except Exception as error:  # zipfile.BadZipFile, ValueError, OSError ...
        raise RecipeError(f"{path} is not a readable .npz file ({type(error).__name__})",
                          hint="save your arrays with np.savez") from None
    return checked_images(arrays, class_names, source=str(path))


def checked_images(arrays: dict, class_names: list[str] | None, source: str) -> ImageData:
    """x_train, y_train, x_test, y_test checked (shapes, types, labels) into ImageData."""
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3)):
            raise RecipeError(f"{source}: {name} has shape {x.shape}",
                              hint="images must be (N, height, width) or (N, height, width, 1|3)")
        if not np.issubdtype(x.dtype, np.number):
            raise RecipeError(f"{source}: {name} is not numeric ({x.dtype})",
                              hint="store pixel values as numbers 0-255")
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x):
            raise RecipeError(f"{source}: y_{name} has shape {y.shape} for {len(x)} images",
                              hint="labels must be one integer per image")
        if not np.issubdtype(y.dtype, np.integer):
            raise RecipeError(f"{source}: y_{name} holds {y.dtype} values, not integer labels",
                              hint="labels must be integers 0..classes-1")
    if x_train.shape[1:3] != x_test.shape[1:3]:
        raise RecipeError(f"{source}: train images are {x_train.shape[1:3]}, "
                          f"test images {x_test.shape[1:3]}", hint="use one image size")
    if len(x_train) < 2 or len(x_test) < 1:
        raise RecipeError(f"{source}: too few images ({len(x_train)} train, {len(x_test)} test)",
                          hint="give at least a few images per class")
    y_train = np.asarray(y_train).reshape(-1).astype(np.int64)
    y_test = np.asarray(y_test).reshape(-1).astype(np.int64)
    top = int(max(y_train.max(), y_test.max()))
    if min(y_train.min(), y_test.min()) < 0:
        raise RecipeError(f"{source}: negative labels", hint="labels must be integers 0..classes-1")
    if class_names is None:
        class_names = [str(i) for i in range(top + 1)]
    if top >= len(class_names):
        raise RecipeError(f"{source}: label {top} is out of range for {len(class_names)} classes",
                          hint="labels must be integers 0..classes-1")
    return ImageData(_as_nhwc(x_train), y_train, _as_nhwc(x_test), y_test,
                     list(class_names), source)


def _as_nhwc(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype != np.uint8:
        top = float(np.nanmax(x)) if x.size else 0.0
        x = np.clip(x * 255.0 if top <= 1.0 else x, 0, 255).astype(np.uint8)
    return x


IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: Path) -> np.ndarray:
    """Reads one MNIST-format IDX file (optionally gzipped) into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
        data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
        return data.reshape(shape)
    except (OSError, ValueError, struct.error, EOFError) as error:
        raise RecipeError(f"{path} is not a valid IDX file ({error})",
                          hint="expected MNIST-format files such as train-images-idx3-ubyte.gz"
                          ) from None


def load_idx_dir(directory: Path, class_names: list[str] | None = None) -> ImageData:
    arrays = {}
    for key, stem in IDX_NAMES.items():
        found = [directory / stem, directory / f"{stem}.gz"]
        path = next((p for p in found if p.is_file()), None)
        if path is None:
            raise RecipeError(f"{directory} has no {stem}[.gz]",
                              hint="a directory of MNIST-format IDX files needs the four files "
                                   + ", ".join(IDX_NAMES.values()))
        arrays[key] = read_idx(path)
    return checked_images(arrays, class_names, source=str(directory))


def _offline_error(what: str, error: Exception) -> RecipeError:
    reason = " ".join(str(error).split())[:160]
    hint = "use --data sample (shipped, works offline), or --data PATH to your own copy"
    if what == "Fashion-MNIST" and DEBIAN_FASHION_DIR.is_dir():
        hint += f" (Fashion-MNIST is installed at {DEBIAN_FASHION_DIR})"
    return RecipeError(f"could not download {what}: {reason}", hint=hint)


def _load_full(dataset: str) -> ImageData:
    import keras

    classes = IMAGE_DATASETS[dataset]["classes"]
    if dataset == "fashion-mnist":
        arrays = {}
        for key, stem in IDX_NAMES.items():
            fname = f"{stem}.gz"
            try:
                path = Path(keras.utils.get_file(fname, origin=FASHION_ORIGIN + fname,
                                                 cache_subdir="datasets/fashion-mnist"))
            except Exception as error:
                raise _offline_error("Fashion-MNIST", error) from None
            digest = hashlib.sha256(gzip.open(path, "rb").read()).hexdigest()
            if digest != FASHION_IDX_SHA256[fname]:
                path.unlink(missing_ok=True)
                raise RecipeError(f"downloaded {fname} failed its sha256 check",
                                  hint="run again to download it anew")
            arrays[key] = read_idx(path)
        data = checked_images(arrays, classes, source="full:fashion-mnist")
        return data
    loader = {"mnist": keras.datasets.mnist, "cifar10": keras.datasets.cifar10}[dataset]
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()  # get_file with its sha256
    except Exception as error:
        raise _offline_error(dataset, error) from None
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return checked_images(arrays, classes, source=f"full:{dataset}")


def image_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed=None,
                  epoch=None):
    """uint8 images and integer labels as a tf.data pipeline: scaled to [0, 1] once and held in
    memory, shuffled (a new order every epoch), batched, prefetched.

    The order of an epoch depends on `seed` and the epoch's number alone when `epoch` is
    given: a variable holding the number of the epoch being trained (`engine.epoch_key`
    keeps it), read as each pass over the data begins. A run resumed from its checkpoint
    then sees the batches an uninterrupted run would have seen, and ends with the same
    weights. Without `epoch`, tf.data reshuffles each pass from where the process started.
    """
    import tensorflow as tf

    images = tf.constant(x.astype("float32") / 255.0)
    labels = tf.constant(y.astype("int32"))
    examples = len(x)
    order = tf.data.Dataset.range(examples)
    if shuffle and epoch is not None:
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))

        def epoch_order(_):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            permutation = tf.random.experimental.stateless_shuffle(
                tf.range(examples, dtype=tf.int64), seed=key)
            return tf.data.Dataset.from_tensor_slices(permutation)

        order = tf.data.Dataset.range(1).flat_map(epoch_order).apply(
            tf.data.experimental.assert_cardinality(examples))
    elif shuffle:
        order = order.shuffle(examples, seed=seed, reshuffle_each_iteration=True)
    batches = order.batch(batch_size).map(
        lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def validation_count(examples: int, fraction: float) -> int:
    """How many of `examples` training examples `validation_split` holds out (at least one)."""
    return max(1, int(round(examples * fraction)))


def validation_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int | None = 0):
    """Holds out a shuffled share of the training data for validation (never the test set)."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = validation_count(len(x), fraction)
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


# --------------------------------------------------------------------------
# New images to classify (`advisor predict`)
# --------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PREDICT_IMAGES_HINT = "give an .npz holding an array x, a folder of PNG/JPEG files, or one file"


def predict_images(run_dir: Path | str, source: str, recipe: str):
    """`advisor predict` for an image classifier's run: one row per image of `source` (its
    index in `x`, or its file), with the predicted label, its probability and the
    probability of every class. The model takes pixels scaled as `image_dataset` scales
    them, and metrics.json names the classes, so the run directory alone is enough."""
    from recipes import common

    metrics, model = common.load_finished_run(run_dir, recipe)
    x, names, name_column = images_to_predict(source, model.input_shape[1:])
    labels = np.zeros(len(x), dtype="int32")
    probabilities = model.predict(image_dataset(x, labels, 1024, shuffle=False), verbose=0)
    return common.classification_table(names, name_column, probabilities,
                                       metrics["class_names"])


def images_to_predict(source: str | Path, shape: Sequence[int]
                      ) -> tuple[np.ndarray, list, str]:
    """New images for a model that takes `shape` (height, width, channels), as uint8 NHWC
    like the training images, with what names each: (images, names, "index" or "file").

    An .npz holds `x`, (N, height, width) or (N, height, width, channels), at the model's
    size, pixels 0-255 (or 0-1, scaled up as training does). A folder (searched with its
    subfolders, leaving hidden files out) or a single PNG/JPEG file is read with Keras'
    `load_img`, resized to the model's size. Grey and colour become whichever the model
    takes; an alpha channel is dropped.
    """
    height, width, channels = (int(size) for size in shape)
    path = Path(source)
    if not path.exists():
        raise RecipeError(f"--data {source}: no such file or directory", hint=PREDICT_IMAGES_HINT)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*")  # hidden ones (._x.png, .cache/) left out
                       if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise RecipeError(f"--data {path} holds no PNG or JPEG files",
                              hint=PREDICT_IMAGES_HINT)
        names = [p.relative_to(path).as_posix() for p in files]
        return _read_image_files(files, height, width, channels), names, "file"
    if path.stat().st_size == 0:
        raise RecipeError(f"--data {path} is empty", hint=PREDICT_IMAGES_HINT)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _read_image_files([path], height, width, channels), [path.name], "file"
    if path.suffix.lower() != ".npz":
        raise RecipeError(f"--data {path} is not an .npz file, an image or a folder",
                          hint=PREDICT_IMAGES_HINT)
    x = _read_x(path)
    if x.shape[1:3] != (height, width):
        raise RecipeError(f"{path}: x holds {x.shape[1]}x{x.shape[2]} images; the model takes "
                          f"{height}x{width}",
                          hint=f"resize them to {height}x{width} first, or save them as PNG "
                               "files in a folder (which are resized)")
    x = _as_nhwc(x)  # as training saw them: uint8, 0-1 floats scaled up
    return _to_channels(x, channels, str(path)), list(range(len(x))), "index"


def _read_x(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "x" not in archive.files:
                held = ", ".join(archive.files) or "nothing"
                raise RecipeError(f"{path} has no array x (it holds {held})",
                                  hint="save the images to predict with np.savez(path, x=images)")
            x = archive["x"]
    except RecipeError:
        raise
    except Exception as error:  # zipfile.BadZipFile, ValueError (pickled objects), OSError
        raise RecipeError(f"{path} is not a readable .npz file ({type(error).__name__})",
                          hint="save the images to predict with np.savez(path, x=images)"
                          ) from None
    if x.ndim not in (3, 4) or len(x) == 0:
        raise RecipeError(f"{path}: x has shape {x.shape}",
                          hint="x must hold one or more images: (N, height, width) or "
                               "(N, height, width, channels)")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise RecipeError(f"{path}: x is not numeric ({x.dtype})",
                          hint="store pixel values as numbers 0-255")
    if not np.isfinite(x).all():
        raise RecipeError(f"{path}: x holds NaN or infinite values",
                          hint="store pixel values as numbers 0-255")
    return x


def _to_channels(x: np.ndarray, channels: int, source: str) -> np.ndarray:
    """uint8 NHWC images with the model's number of channels: grey repeated into RGB,
    RGB to grey by ITU-R 601 luma (as Pillow's convert("L")), alpha dropped."""
    have = x.shape[-1]
    if have == 4:
        x, have = x[..., :3], 3
    if have == channels:
        return x
    if have == 1 and channels == 3:
        return np.repeat(x, 3, axis=-1)
    if have == 3 and channels == 1:
        grey = x.astype("float32") @ np.array([0.299, 0.587, 0.114], dtype="float32")
        return np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None]
    raise RecipeError(f"{source}: images have {have} channels; the model takes {channels} "
                      f"({'grey' if channels == 1 else 'colour'})",
                      hint="give grey (1 channel) or colour (3 channels, RGB) images")


def _read_image_files(files: Sequence[Path], height: int, width: int,
                      channels: int) -> np.ndarray:
    import keras

    if channels not in (1, 3):
        raise RecipeError(f"the model takes images of {channels} channels",
                          hint="image files can feed models of 1 (grey) or 3 (RGB) channels; "
                               "give an .npz with an array x instead")
    mode = "grayscale" if channels == 1 else "rgb"
    images = np.empty((len(files), height, width, channels), dtype=np.uint8)
    for i, file in enumerate(files):
        try:
            image = keras.utils.load_img(file, color_mode=mode, target_size=(height, width),
                                         interpolation="bilinear")
        except Exception as error:  # PIL.UnidentifiedImageError, OSError, truncated files
            raise RecipeError(f"{file} is not a readable image ({type(error).__name__})",
                              hint="re-save it as PNG or JPEG, or move it out of the folder"
                              ) from None
        array = keras.utils.img_to_array(image, dtype="float32")
        images[i] = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return images


# --------------------------------------------------------------------------
# CSV files
# --------------------------------------------------------------------------


def read_csv(path: Path | str, *, what: str = "--data", nrows: int | None = None):
    """Reads a user's CSV with pandas; every way it can be unreadable is one clear error.

    `nrows` reads only the first rows (to profile a file too large to load whole).
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise RecipeError(f"{what} {path}: no such file", hint="check the path")
    if path.is_dir():
        raise RecipeError(f"{what} {path} is a directory, not a CSV file",
                          hint="give the path of a .csv file")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise RecipeError(f"{path} is empty", hint="give a CSV file with a header row and data")
    if b"\x00" in head:
        raise RecipeError(f"{path} looks like a binary file, not a CSV",
                          hint="export the data as comma-separated text")
    try:
        frame = pd.read_csv(path, encoding="utf-8", nrows=nrows)
    except UnicodeDecodeError:
        raise RecipeError(f"{path} is not UTF-8 text",
                          hint="re-save it as UTF-8 (for example with iconv -t utf-8)") from None
    except pd.errors.EmptyDataError:
        raise RecipeError(f"{path} is empty", hint="give a CSV file with a header row and data"
                          ) from None
    except (pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())[:120]
        raise RecipeError(f"{path} is not a valid CSV ({reason})",
                          hint="check the delimiter and quoting") from None
    if frame.empty:
        raise RecipeError(f"{path} has a header but no rows", hint="add data rows")
    return frame


