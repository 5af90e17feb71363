"""conditional-gan: both networks train, a short run on the sample writes a complete run,
the conditional accuracy tells real images from noise, `generate` refuses bad input, a
resumed run ends where an uninterrupted one does, and the file refuses bad input on its
own (tests/test_advisor_copy.py runs it alone, copied)."""

import json

import numpy as np
import pytest

from recipes import common, data, engine, gan_quality, mnist_fnn, runner
from recipes import conditional_gan as cgan


def train_run(argv):
    return runner.run("conditional-gan", argv)


generate = gan_quality.generate_main


def grid_size(rows, columns, side=28):
    """The pixels of a grid of 28x28 images with 2-pixel gaps, each pixel drawn twice."""
    return (rows * (side + 2) + 2) * 2, (columns * (side + 2) + 2) * 2


def _png_shape(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(path).shape[:2]


@pytest.fixture(scope="module")
def sample():
    return data.load_images("sample", "mnist")


@pytest.fixture(scope="module")
def judge(sample, tmp_path_factory):
    """A small classifier trained on the real sample in a few seconds (about 0.9 accurate)."""
    config = mnist_fnn.Config(epochs=3, seed=0)
    model = mnist_fnn.build_model(sample.input_shape, sample.num_classes, config)
    mnist_fnn.train(model, sample.x_train, sample.y_train, config, verbose=0)
    path = tmp_path_factory.mktemp("judge") / "classifier.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def finished_run(judge, tmp_path_factory):
    out = tmp_path_factory.mktemp("cgan") / "run"
    code = train_run(["--output", str(out), "--epochs", "2", "--seed", "1", "--quiet",
                      "--classifier", str(judge), "--samples-per-class", "50"])
    assert code == 0
    return out


def test_one_step_trains_both_networks():
    """The Keras 2 `trainable = False` pattern leaves the discriminator frozen under Keras 3;
    here one train step must move every weight of both networks."""
    import tensorflow as tf

    gan = cgan.build_model((28, 28, 1), 10, cgan.Config(seed=0))
    before = {v.path: v.numpy().copy() for v in gan.generator.trainable_variables
              + gan.discriminator.trainable_variables}
    rng = np.random.default_rng(0)
    batch = (tf.constant(rng.random((16, 28, 28, 1)), tf.float32),
             tf.constant(rng.integers(0, 10, (16, 1)), tf.int32))
    logs = gan.train_step(batch)
    assert {"d_loss", "g_loss"} <= set(logs)
    assert all(np.isfinite(float(logs[k])) for k in ("d_loss", "g_loss"))
    for network in (gan.generator, gan.discriminator):
        assert network.trainable_variables
        for variable in network.trainable_variables:
            assert not np.allclose(variable.numpy(), before[variable.path]), variable.path
    assert int(gan.d_optimizer.iterations.numpy()) == 1
    assert int(gan.g_optimizer.iterations.numpy()) == 1


def test_short_run_learns_and_writes_everything(finished_run, sample):
    names = {p.name for p in finished_run.iterdir()}
    assert names == {"generator.keras", "history.csv", "training_curves.png", "samples.png",
                     "metrics.json", "run-options.json", "samples-epoch-001.png",
                     "samples-epoch-002.png"}
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["steps"] == 2 * (4000 // 64)
    losses = metrics["final_losses"]
    assert set(losses) == {"d_loss", "g_loss"} and all(np.isfinite(list(losses.values())))
    quality = metrics["quality"]
    assert set(quality["per_class"]) == set(sample.class_names)
    assert quality["samples"] == 500 and 1 <= quality["classes_seen"] <= 10
    assert all(1 <= n <= 10 for n in quality["distinct_classes"].values())
    # Chance is 0.10; after 2 short epochs (124 steps) the digits already follow the label.
    assert metrics["conditional_accuracy"] >= 0.6
    assert metrics["classifier"]["real_test_accuracy"] >= 0.85
    assert 0 < quality["diversity"]["mean"] < 2
    for epoch in (1, 2):
        shape = _png_shape(finished_run / f"samples-epoch-{epoch:03d}.png")
        assert shape == grid_size(10, 10)
    history = (finished_run / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,d_loss,g_loss" and len(history) == 3


def test_saved_generator_loads_safely_and_draws_images_in_range(finished_run):
    import keras

    generator = keras.saving.load_model(finished_run / "generator.keras", safe_mode=True)
    noise = np.random.default_rng(0).standard_normal((12, 64)).astype("float32")
    images = np.asarray(generator([noise, np.arange(12).reshape(-1, 1) % 10]))
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.std() > 0.05
    drawn = cgan.generate(generator, label=3, count=5, seed=0)
    assert drawn.shape == (5, 28, 28, 1) and drawn.dtype == np.uint8


def test_conditional_accuracy_is_high_on_real_images_and_chance_on_noise(judge, sample):
    import keras

    classifier = keras.saving.load_model(judge)
    real = gan_quality.conditional_accuracy(sample.x_test / 255.0, sample.y_test, classifier, 10,
                                     sample.class_names)
    assert real["accuracy"] >= 0.85 and min(real["per_class"].values()) >= 0.6
    assert real["classes_seen"] == 10 and real["samples"] == 1000

    requested = np.repeat(np.arange(10), 100)
    noise = np.random.default_rng(0).random((1000, 28, 28, 1))
    chance = gan_quality.conditional_accuracy(noise, requested, str(judge), 10)  # a path works too
    assert chance["accuracy"] <= 0.2
    # noise looks the same whatever was asked for: the same few classes in every row
    matrix = np.array(chance["confusion_matrix"])
    assert (matrix > 0).any(axis=0).sum() == chance["classes_seen"] <= 5


def test_the_default_judge_is_the_conv2d_classifier_trained_once_and_cached(sample):
    small = sample.limit(max_train=1500)
    model, path = gan_quality.cached_classifier(small, verbose=0, epochs=2)
    assert path.is_file() and path.parent == gan_quality.classifier_cache_dir()
    assert model.name == "conv2d_classifier"
    accuracy, scale = gan_quality.check_classifier(model, small.x_test, small.y_test, 10)
    assert accuracy >= 0.7 and scale == 1.0
    stamp = path.stat().st_mtime_ns
    again, same = gan_quality.cached_classifier(small, verbose=0, epochs=2)
    assert same == path and path.stat().st_mtime_ns == stamp  # loaded, not trained again
    assert gan_quality.check_classifier(again, small.x_test, small.y_test, 10)[0] == accuracy


def test_an_unwritable_cache_only_costs_a_warning(sample, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("KERAS_HOME", str(blocker))
    model, path = gan_quality.cached_classifier(sample.limit(max_train=500), verbose=0, epochs=1)
    assert path is None and model.name == "conv2d_classifier"
    assert "warning: could not cache the classifier" in capsys.readouterr().err


def test_a_classifier_of_other_data_is_refused(judge):
    import keras

    fashion = data.load_images("sample", "fashion-mnist")
    with pytest.raises(common.RecipeError, match="real test images"):
        gan_quality.check_classifier(str(judge), fashion.x_test, fashion.y_test, 10)
    other_size = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                   keras.layers.Dense(10)])
    with pytest.raises(common.RecipeError, match="cannot read images of shape"):
        gan_quality.check_classifier(other_size, fashion.x_test, fashion.y_test, 10)


def test_generate_command_draws_the_class_asked_for(finished_run, tmp_path, capsys):
    out = tmp_path / "sevens.png"
    code = generate(["--model", str(finished_run / "generator.keras"),
                      "--label", "7", "--count", "6", "--columns", "3", "--output", str(out),
                      "--json"])
    assert code == 0
    written = json.loads(capsys.readouterr().out)
    assert written["label"] == 7 and written["class_name"] == "7" and written["count"] == 6
    assert _png_shape(out) == grid_size(2, 3)


def test_advisor_generate_uses_class_names(finished_run, tmp_path):
    from typer.testing import CliRunner

    from advisor.cli import app

    # a Fashion-MNIST name is refused for a digits generator, with the valid names in the hint
    runner = CliRunner()
    out = tmp_path / "x.png"
    result = runner.invoke(app, ["generate", "conditional-gan", "--model",
                                 str(finished_run / "generator.keras"), "--label", "Sneaker",
                                 "--output", str(out)])
    assert result.exit_code == 2 and "--label 'Sneaker'" in result.stderr
    assert not out.exists()
    result = runner.invoke(app, ["generate", "conditional-gan", "--model",
                                 str(finished_run / "generator.keras"), "--label", "Sneaker",
                                 "--dataset", "fashion-mnist", "--count", "4",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert _png_shape(out) == grid_size(1, 4)
    result = runner.invoke(app, ["generate", "mnist-fnn", "--model", "x.keras"])
    assert result.exit_code == 2 and "does not generate" in result.stderr


@pytest.fixture
def bad_models(tmp_path, judge, finished_run):
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes((finished_run / "generator.keras").read_bytes()[:2000])
    return {"missing": tmp_path / "none.keras", "classifier": judge, "truncated": truncated,
            "generator": finished_run / "generator.keras"}


@pytest.mark.parametrize("model, label, extra, message", [
    ("generator", "11", [], "--label '11' is not one of"),
    ("generator", "Sneaker", [], "--label 'Sneaker'"),
    ("missing", "1", [], "no such file"),
    ("classifier", "1", [], "is not a conditional-GAN generator"),
    ("truncated", "1", [], "is damaged or not a Keras model"),
    ("generator", "1", ["--count", "0"], "--count"),
    ("generator", "1", ["--output-is-not-png"], "not a .png"),
])
def test_generate_bad_input_is_a_one_line_error(bad_models, tmp_path, capsys, model, label,
                                                extra, message):
    out = tmp_path / ("out.txt" if "--output-is-not-png" in extra else "out.png")
    extra = [e for e in extra if e != "--output-is-not-png"]
    code = generate(["--model", str(bad_models[model]), "--label", label,
                      "--output", str(out), *extra])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert err.startswith("error: ") and message in err.splitlines()[0], err
    assert err.splitlines()[1].startswith("hint: ") and "Traceback" not in err
    assert not out.exists()


def test_generate_never_overwrites_without_asking(finished_run, tmp_path, capsys):
    out = tmp_path / "mine.png"
    out.write_bytes(b"precious")
    argv = ["--model", str(finished_run / "generator.keras"), "--label", "2",
            "--output", str(out)]
    assert generate(argv) == 1 and "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert generate([*argv, "--overwrite"]) == 0 and _png_shape(out)


def _fit(gan, x, y, config, run, callbacks=()):
    return engine.checkpointed(
        lambda extra: cgan.train(gan, x, y, config, callbacks=extra, verbose=0),
        run=run, epochs=config.epochs, callbacks=callbacks)


def test_an_interrupted_run_resumes_to_the_same_weights_as_an_uninterrupted_one(sample,
                                                                              tmp_path):
    """The checkpoint holds both networks and both Adams; the shuffle is keyed by the epoch
    and the noise by the step, so the resumed run ends weight for weight where an
    uninterrupted one does."""
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    config = cgan.Config(epochs=2, batch_size=64, seed=3)
    x, y = sample.x_train[:256], sample.y_train[:256]  # 4 steps per epoch
    whole = cgan.build_model((28, 28, 1), 10, config)
    (tmp_path / "whole").mkdir()
    whole_history = _fit(whole, x, y, config, common.RunDir(tmp_path / "whole"))
    saved = {}

    class StopInEpochTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved["weights"] = [w.copy() for w in self.model.get_weights()]
            saved["steps"] = int(self.model.d_optimizer.iterations.numpy())

        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.d_optimizer.iterations.numpy()) == 6:
                raise KeyboardInterrupt

    (tmp_path / "interrupted").mkdir()
    run = common.RunDir(tmp_path / "interrupted")
    gan = cgan.build_model((28, 28, 1), 10, config)
    with pytest.raises(engine.Interrupted):
        _fit(gan, x, y, config, run, callbacks=[StopInEpochTwo()])
    restored = {}

    class Check(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            restored["weights"] = self.model.get_weights()
            restored["steps"] = [int(o.iterations.numpy())
                                 for o in (self.model.d_optimizer, self.model.g_optimizer)]

    again = cgan.build_model((28, 28, 1), 10, config)
    history = _fit(again, x, y, config, run, callbacks=[Check()])
    assert restored["steps"] == [saved["steps"]] * 2 == [4, 4]
    assert all(np.array_equal(a, b) for a, b in zip(restored["weights"], saved["weights"],
                                                    strict=True))
    assert len(history["d_loss"]) == 2 and int(again.g_optimizer.iterations.numpy()) == 8
    assert history == whole_history
    for mine, theirs in zip(again.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs"),
    (["--classifier", "/no/such/classifier.keras"], "no such file"),
    (["--max-minutes", "-1"], "--max-minutes"),
    (["--dataset", "cifar10"], "--dataset"),
])
def test_bad_options_are_one_line_errors(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = train_run([*argv, "--output", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert err.startswith("error: ") and message in err.splitlines()[0]
    assert err.splitlines()[1].startswith("hint: ") and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs 0 is not a positive number"),
    (["--dataset", "cifar10"], "argument --dataset: invalid choice"),
    (["--output", "a-file"], "cannot write to --output a-file"),
])
def test_the_recipe_files_own_command_line_refuses_bad_input(argv, message, tmp_path,
                                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    code = cgan.main([*argv, "--max-samples", "64", "--epochs", "1", *argv])
    err = capsys.readouterr().err.splitlines()
    assert code in (1, 2) and err[0].startswith("error: ") and message in err[0], err
    assert err[1].startswith("hint: ") and len(err) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
