"""`advisor predict` on the image classifiers and the forecaster: a short run on the shipped
sample, then predictions through the command line that agree with what the run measured;
a conditional-gan run points to `advisor generate`; bad input is a one-line error."""

import io
import json
import shlex
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from recipes import catalog, conditional_gan, data, lstm_forecaster
from recipes.common import RecipeError
from recipes.runner import main as run_recipe
from recipes.runner import predict_run

runner = CliRunner()
QUICK_IMAGES = ["--epochs", "1", "--seed", "1", "--quiet"]
QUICK_SERIES = ["--epochs", "1", "--max-windows", "300", "--horizon", "2", "--seed", "1",
                "--quiet"]


def predict(*args):
    return runner.invoke(app, ["predict", *map(str, args)])


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("predict-mnist") / "run"
    assert run_recipe(["mnist-fnn", *QUICK_IMAGES, "--max-samples", "2000",
                       "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("predict-conv") / "run"
    assert run_recipe(["conv2d-classifier", *QUICK_IMAGES, "--max-samples", "2000",
                       "--batch-size", "32", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("predict-lstm") / "run"
    assert run_recipe(["lstm-forecaster", *QUICK_SERIES, "--output", str(out)]) == 0
    return out


def _accuracy_from_cli(run, dataset, tmp_path):
    images = data.load_images("sample", dataset)
    np.savez(tmp_path / "x.npz", x=images.x_test[..., 0])  # (N, 28, 28), as people save them
    result = predict(run, "--data", tmp_path / "x.npz", "--output", tmp_path / "labels.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "labels.csv", dtype={"label": str})
    names = json.loads((run / "metrics.json").read_text())["class_names"]
    assert list(table["index"]) == list(range(len(images.x_test)))
    predicted = np.array([names.index(label) for label in table["label"]])
    probabilities = table[[f"probability_{name}" for name in names]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    assert np.allclose(table["probability"], probabilities.max(axis=1))
    return float(np.mean(predicted == images.y_test)), table


def test_mnist_labels_of_the_test_images_score_what_the_run_measured(mnist_run, tmp_path):
    accuracy, grey = _accuracy_from_cli(mnist_run, "mnist", tmp_path)
    recorded = json.loads((mnist_run / "metrics.json").read_text())["test"]["accuracy"]
    assert recorded >= 0.7  # one epoch on 2,000 digits (about 0.8); chance is 0.1
    assert abs(accuracy - recorded) <= 0.01
    # the same digits as RGB floats in [0, 1]: turned back into the grey 0-255 of training
    x = data.load_images("sample", "mnist").x_test[:50].astype("float32") / 255
    np.savez(tmp_path / "rgb.npz", x=np.repeat(x, 3, axis=-1))
    result = predict(mnist_run, "--data", tmp_path / "rgb.npz", "--json")
    assert result.exit_code == 0, result.output
    assert [row["label"] for row in json.loads(result.stdout)] == list(grey["label"][:50])


def test_conv2d_labels_a_folder_of_colour_pngs_like_the_array(conv_run, tmp_path):
    from PIL import Image

    accuracy, from_array = _accuracy_from_cli(conv_run, "fashion-mnist", tmp_path)
    recorded = json.loads((conv_run / "metrics.json").read_text())["test"]["accuracy"]
    assert recorded >= 0.6  # one epoch on 2,000 garments (about 0.72); chance is 0.1
    assert abs(accuracy - recorded) <= 0.01
    images = data.load_images("sample", "fashion-mnist").x_test[:20, ..., 0]
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for i, image in enumerate(images):  # RGB files, some twice the size: grey and resized
        picture = Image.fromarray(np.stack([image] * 3, axis=-1))
        if i < 10:
            picture.save(folder / f"{i:02d}.png")
        else:
            picture.resize((56, 56), Image.NEAREST).save(folder / "more" / f"{i:02d}.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "._00.png").write_bytes(b"resource fork of 00.png, hidden")
    result = predict(conv_run, "--data", folder, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["file"] for row in rows] == \
        [f"{i:02d}.png" for i in range(10)] + [f"more/{i:02d}.png" for i in range(10, 20)]
    same_size = [row["label"] for row in rows[:10]]
    assert same_size == list(from_array["label"][:10])  # lossless files, the same pixels
    agree = np.mean(np.array([row["label"] for row in rows[10:]])
                    == from_array["label"].to_numpy()[10:20])
    assert agree >= 0.8  # resized back down by bilinear filtering: nearly the same pixels


def test_forecasts_follow_the_history_one_step_apart_like_the_runs_own(lstm_run):
    import keras

    series = pd.read_csv(data.shipped_file("taylor.csv"))
    history = series.iloc[:-1]  # the last real row is then the first step ahead
    path = lstm_run.parent / "recent.csv"
    history.tail(200).to_csv(path, index=False)
    result = predict(lstm_run, "--data", path)
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(io.StringIO(result.stdout))
    assert list(forecast.columns) == ["timestamp", "steps_ahead", "forecast"]
    assert list(forecast["steps_ahead"]) == [1, 2]  # --horizon 2: every step up to it
    last = pd.Timestamp(history["timestamp"].iloc[-1])
    assert list(pd.to_datetime(forecast["timestamp"])) == \
        [last + pd.Timedelta(minutes=30), last + pd.Timedelta(minutes=60)]
    assert np.isfinite(forecast["forecast"]).all()
    # The same number as the run's own pipeline gives for the last test target ...
    model = keras.saving.load_model(lstm_run / "model.keras", safe_mode=True)
    prepared = lstm_forecaster.prepare(lstm_forecaster.load_data("sample"),
                                       lstm_forecaster.Config(horizon=2))
    own = lstm_forecaster.predict(model, prepared, "test")[-1]
    assert forecast["forecast"].iloc[0] == pytest.approx(own, rel=1e-5)
    # ... and in megawatts, near the demand that came (a forecast left in the normalised
    # scale would be some 20,000 MW off)
    rmse = json.loads((lstm_run / "metrics.json").read_text())["test"]["model"]["rmse"]
    assert abs(forecast["forecast"].iloc[0] - series["demand_mw"].iloc[-1]) < 5 * rmse


def test_predict_on_a_gan_run_names_the_generate_command_that_works(tmp_path):
    run = tmp_path / "gan run"
    run.mkdir()
    gan = conditional_gan.build_model((28, 28, 1), 10, conditional_gan.Config(seed=0))
    gan.generator.save(run / "generator.keras")
    (run / "metrics.json").write_text(json.dumps({"recipe": "conditional-gan",
                                                  "class_names": data.MNIST_CLASSES}))
    result = predict(run, "--data", tmp_path / "anything.csv")
    assert result.exit_code == 2 and result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error == "error: a conditional-gan run draws new images; it does not predict from data"
    model = shlex.quote(str(run / "generator.keras"))
    assert hint == (f"hint: advisor generate conditional-gan --model {model} --label L "
                    "--count N --output FILE.png")
    command = shlex.split(hint.removeprefix("hint: advisor "))
    out = tmp_path / "sevens.png"
    command = [{"L": "7", "N": "4", "FILE.png": str(out)}.get(arg, arg) for arg in command]
    assert runner.invoke(app, command).exit_code == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def _bad_image_inputs(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "no-x.npz", x_train=np.zeros((2, 28, 28), "uint8"))
    np.savez(tmp_path / "small.npz", x=np.zeros((2, 10, 10), "uint8"))
    np.savez(tmp_path / "two-channels.npz", x=rng.integers(0, 255, (2, 28, 28, 2)))
    np.savez(tmp_path / "words.npz", x=np.array([["a"] * 28] * 28)[None])
    (tmp_path / "no-images").mkdir()
    (tmp_path / "no-images" / "readme.txt").write_text("hello")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "0.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    return {
        "missing.npz": "no such file",
        "empty.npz": "is empty",
        "no-x.npz": "has no array x (it holds x_train)",
        "small.npz": "x holds 10x10 images; the model takes 28x28",
        "two-channels.npz": "images have 2 channels; the model takes 1",
        "words.npz": "x is not numeric",
        "no-images": "holds no PNG or JPEG files",
        "broken": "0.png is not a readable image",
        "table.csv": "is not an .npz file, an image or a folder",
    }


def _assert_one_line_error(result, message, output):
    assert result.exit_code != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert lines[1].startswith("hint: ") and "Traceback" not in result.stderr
    assert not output.exists()


def test_bad_images_are_one_line_errors_and_write_nothing(mnist_run, tmp_path):
    output = tmp_path / "out.csv"
    for name, message in _bad_image_inputs(tmp_path).items():
        result = predict(mnist_run, "--data", tmp_path / name, "--output", output)
        _assert_one_line_error(result, message, output)


def test_bad_history_is_a_one_line_error_naming_what_is_needed(lstm_run, tmp_path):
    series = pd.read_csv(data.shipped_file("taylor.csv"))
    cases = {
        "short.csv": (series.tail(47), "47 row(s) of history; the model needs at least 48"),
        "hourly.csv": (series.tail(200).iloc[::2], "one row every 1 h; the model was trained "
                                                   "on one every 30 min"),
        "no-time.csv": (series.tail(60)[["demand_mw"]], "no column 'timestamp'"),
        "gap.csv": (series.tail(60).assign(demand_mw=lambda f: f["demand_mw"].where(
            f.index != f.index[30])), "'demand_mw' has 1 missing values"),
    }
    output = tmp_path / "out.csv"
    for name, (frame, message) in cases.items():
        frame.to_csv(tmp_path / name, index=False)
        _assert_one_line_error(predict(lstm_run, "--data", tmp_path / name, "--output", output),
                               message, output)
    (tmp_path / "empty.csv").write_text("")
    _assert_one_line_error(predict(lstm_run, "--data", tmp_path / "empty.csv"), "is empty",
                           output)


def test_an_unfinished_run_or_another_recipes_run_is_refused(mnist_run, lstm_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(mnist_run, unfinished)
    (unfinished / "metrics.json").unlink()
    np.savez(tmp_path / "x.npz", x=np.zeros((1, 28, 28), "uint8"))
    output = tmp_path / "out.csv"
    _assert_one_line_error(predict(unfinished, "--data", tmp_path / "x.npz", "--output", output),
                           "holds no finished run", output)
    with pytest.raises(RecipeError, match="is a lstm-forecaster run, not a mnist-fnn run"):
        predict_run(catalog.get("mnist-fnn"), lstm_run, str(tmp_path / "x.npz"))
    copied = tmp_path / "copied"  # a run directory moved elsewhere still predicts
    shutil.copytree(mnist_run, copied)
    table = predict_run(catalog.get("mnist-fnn"), copied, str(tmp_path / "x.npz"))
    assert len(table) == 1 and table["label"].iloc[0] in [str(d) for d in range(10)]


def test_predictions_are_written_in_their_shortest_decimal_form(capsys):
    from advisor.predictions import write

    frame = pd.DataFrame({"id": ["a", "b"],
                          "probability_yes": np.array([0.1, 0.7], dtype="float32")})
    write(frame, None, as_json=True, overwrite=False)
    assert [row["probability_yes"] for row in json.loads(capsys.readouterr().out)] == [0.1, 0.7]
    write(frame, None, as_json=False, overwrite=False)
    assert capsys.readouterr().out.splitlines()[1:] == ["a,0.1", "b,0.7"]
