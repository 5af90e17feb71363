"""mnist-fnn trains for real on the shipped MNIST sample and writes a complete run through
the runner; the recipe file alone trains on the user's arrays."""

import gzip
import hashlib
import json
import runpy
from pathlib import Path

import keras
import numpy as np
import pytest

from recipes import conv2d_classifier, data, mnist_fnn, runner
from tests.test_data import write_idx


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist") / "run"
    code = runner.main(["mnist-fnn", "--output", str(out), "--seed", "1", "--quiet"])
    assert code == 0
    return out


def test_five_epochs_on_the_sample_learn_to_read_digits(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    # Chance is 0.10; a plain Keras script reaches about 0.91 on this sample.
    assert metrics["test"]["accuracy"] >= 0.88
    assert metrics["epochs"] == 5
    assert {"precision", "recall", "f1", "confusion_matrix"} <= set(metrics["test"])
    matrix = np.array(metrics["test"]["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1000
    assert metrics["recipe"] == "mnist-fnn" and metrics["seconds"] > 0


def test_run_writes_model_history_and_curves(finished_run):
    import keras

    assert {p.name for p in finished_run.iterdir()} == {
        "model.keras", "history.csv", "metrics.json", "training_curves.png", "run-options.json",
        "confusion_matrix.png", "misclassified.png"}
    model = keras.saving.load_model(finished_run / "model.keras", safe_mode=True)
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense"]
    assert model.layers[1].units == 128 and model.layers[1].activation.__name__ == "relu"
    assert model.layers[2].units == 10 and model.layers[2].activation.__name__ == "softmax"
    history = (finished_run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 6
    losses = [float(line.split(",")[history[0].split(",").index("loss")]) for line in history[1:]]
    assert losses[-1] < losses[0]
    assert (finished_run / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_finished_run_is_never_overwritten(finished_run, capsys):
    before = (finished_run / "metrics.json").read_bytes()
    assert runner.main(["mnist-fnn", "--output", str(finished_run), "--epochs", "1"]) == 1
    assert "already holds a finished run" in capsys.readouterr().err
    assert (finished_run / "metrics.json").read_bytes() == before


def halves(n, seed):
    """8x8 noisy images, the top half brighter in class 1 and the bottom half in class 0."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    top = np.arange(8)[:, None] < 4
    bright = np.where(y[:, None, None] == 1, top, ~top)
    x = rng.integers(0, 160, size=(n, 8, 8)) + 95 * bright
    return x[..., None].astype("uint8"), y.astype("int64")


def test_model_is_the_designed_one_and_trains_on_user_arrays():
    import keras

    keras.utils.set_random_seed(0)
    x, y = halves(256, seed=0)
    config = mnist_fnn.Config(epochs=3, batch_size=16, seed=0)
    model = mnist_fnn.build_model((8, 8, 1), 2, config)
    assert model.loss.__class__.__name__ == "SparseCategoricalCrossentropy"
    assert model.optimizer.__class__.__name__ == "Adam"
    history = mnist_fnn.train(model, x, y, config, verbose=0)
    assert len(history["loss"]) == 3 and history["loss"][-1] < 0.5 * history["loss"][0]
    x_new, y_new = halves(200, seed=1)  # images it never saw
    metrics = mnist_fnn.evaluate(model, x_new, y_new, 2)
    assert metrics["accuracy"] >= 0.9  # chance is 0.5
    assert np.trace(metrics["confusion_matrix"]) == round(metrics["accuracy"] * 200)


def test_importing_the_recipe_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = runpy.run_path(mnist_fnn.__file__, run_name="imported")  # a fresh copy
    assert module["Config"]().epochs == 5
    assert not list(tmp_path.iterdir())  # no model built, trained or saved


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "-3"], "--batch-size"),
    (["--data", "/no/such/file.npz"], "no such file"),
    (["--dataset", "cifar"], "--dataset"),
])
def test_bad_options_are_one_line_errors(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = runner.main(["mnist-fnn", *argv, "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 or code == 1
    assert err.startswith("error: ") and message in err.splitlines()[0]
    assert err.splitlines()[1].startswith("hint: ") and "Traceback" not in err
    assert not out.exists()


# --------------------------------------------------------------------------------------
# --data full: keras.datasets checks no sha256 of Fashion-MNIST, the recipes do
# --------------------------------------------------------------------------------------

FASHION_IDX = [Path("/usr/share/datasets/fashion-mnist") / f"{name}.gz" for name in (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte")]


@pytest.mark.parametrize("recipe", [mnist_fnn, conv2d_classifier], ids=["fnn", "conv2d"])
def test_the_idx_check_hashes_what_an_idx_file_holds_and_refuses_a_changed_image(
        recipe, tmp_path):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 5, dtype=np.uint8)]
    digests = []
    for index, array in enumerate(arrays):
        write_idx(tmp_path / f"{index}.idx.gz", array)  # what a real IDX file holds
        digests.append(hashlib.sha256(gzip.open(tmp_path / f"{index}.idx.gz").read()).hexdigest())
    recipe.check_idx_sha256([arrays[0], arrays[1].astype("int64")], digests)
    arrays[0][0, 0, 0] ^= 1
    with pytest.raises(ValueError, match="fails its sha256 check"):
        recipe.check_idx_sha256(arrays, digests)


def test_full_fashion_mnist_from_keras_datasets_is_checked(monkeypatch):
    """keras.datasets' arrays pass when they are Fashion-MNIST (Debian's copy of the IDX
    files, where installed) and are refused, as one error and hint, when one label differs."""
    if all(path.is_file() for path in FASHION_IDX):
        arrays = [data.read_idx(path) for path in FASHION_IDX]
    else:
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    served = ((arrays[0], arrays[1]), (arrays[2], arrays[3]))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: served)
    config = mnist_fnn.Config(dataset="fashion-mnist", max_samples=10)
    (x_train, _), (x_test, _) = mnist_fnn.load_data("full", config)
    assert x_train.shape == (10, 28, 28, 1) and x_test.shape == (10_000, 28, 28, 1)
    changed = arrays[3].copy()
    changed[0] = (changed[0] + 1) % 10
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data",
                        lambda: ((arrays[0], arrays[1]), (arrays[2], changed)))
    with pytest.raises(ValueError, match="fails its sha256 check"):
        mnist_fnn.load_data("full", config)
