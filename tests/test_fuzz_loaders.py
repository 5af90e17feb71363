"""Random bytes and random small files never crash the data loaders with a traceback:
they load, or they raise a RecipeError with a hint."""

import io
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recipes import data
from recipes.common import RecipeError

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=6), st.just(""))


def outcome(load, *args):
    try:
        load(*args)
    except RecipeError as error:
        assert error.message and "\n" not in error.message.strip()
        assert error.hint


@FAST
@given(content=st.binary(max_size=400))
def test_read_csv_on_arbitrary_bytes(tmp_path, content):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    outcome(data.read_csv, path)


@FAST
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=4), max_size=8),
       header=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4))
def test_read_csv_on_random_tables(tmp_path, rows, header):
    text = io.StringIO()
    text.write(",".join(h.replace(",", "").replace("\n", "") or "c" for h in header) + "\n")
    for row in rows:
        text.write(",".join(str(c).replace(",", "").replace("\n", "") for c in row) + "\n")
    path = tmp_path / "table.csv"
    path.write_bytes(text.getvalue().encode("utf-8", errors="replace"))
    outcome(data.read_csv, path)


shapes = st.lists(st.integers(0, 6), min_size=0, max_size=4).map(tuple)


@FAST
@given(x_train=shapes, y_train=shapes, x_test=shapes, y_test=shapes,
       dtype=st.sampled_from(["uint8", "float32", "int64", "bool"]),
       drop=st.sets(st.sampled_from(["x_train", "y_train", "x_test", "y_test"]), max_size=1))
def test_load_npz_on_random_arrays(tmp_path, x_train, y_train, x_test, y_test, dtype, drop):
    rng = np.random.default_rng(0)
    arrays = {name: (rng.random(shape) * 12).astype(dtype)
              for name, shape in dict(x_train=x_train, y_train=y_train, x_test=x_test,
                                      y_test=y_test).items() if name not in drop}
    path = tmp_path / "fuzz.npz"
    np.savez(path, **arrays)
    outcome(data.load_images, str(path))


@FAST
@given(content=st.binary(max_size=300))
def test_load_npz_on_arbitrary_bytes(tmp_path, content):
    path = tmp_path / "junk.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x_train.npy", content)
    path.write_bytes(content if content[:1] == b"P" else buffer.getvalue())
    outcome(data.load_images, str(path))
