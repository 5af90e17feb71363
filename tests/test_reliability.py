"""Interrupted and crashed runs resume; seeded runs repeat; NaN stops training cleanly."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from recipes import engine, runner
from recipes.common import RecipeError, RunDir
from tests.conftest import ROOT

RECIPE = [sys.executable, "-m", "recipes.runner", "mnist-fnn", "--quiet"]


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def start(args):
    return subprocess.Popen([*RECIPE, *args], env=env(), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_checkpoint(run_dir, process, epochs=1, timeout=240):
    """Waits until the run has checkpointed at least `epochs` finished epochs."""
    meta = run_dir / engine.CHECKPOINT_DIR / "training_metadata.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        try:
            if json.loads(meta.read_text())["epoch"] >= epochs:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def metrics_of(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


OPTIONS = ["--seed", "5", "--epochs", "4", "--max-samples", "1500", "--batch-size", "32"]
STEPS_PER_EPOCH = 43  # 1,350 images to fit (150 held out for validation) in batches of 32


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert runner.main(["mnist-fnn", *OPTIONS, "--quiet", "--output", str(out)]) == 0
    return out


def weights_of(run_dir):
    import keras

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    return model.get_weights()


def test_a_run_killed_mid_training_resumes_from_its_checkpoint(tmp_path, uninterrupted,
                                                               monkeypatch):
    import keras

    out = tmp_path / "run"
    process = start([*OPTIONS, "--output", str(out)])
    wait_for_checkpoint(out, process, epochs=2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "metrics.json").exists()
    meta = out / engine.CHECKPOINT_DIR / "training_metadata.json"
    saved = json.loads(meta.read_text())["epoch"]  # the epochs the checkpoint holds
    assert 2 <= saved < 4

    # Resumes in this process, watching where each epoch starts: the epoch after the
    # checkpoint, with the optimizer's step count (and so its learning rate) restored.
    starts = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            starts.append((epoch, int(self.model.optimizer.iterations.numpy())))

    watch_every_epoch(monkeypatch, Watch())
    assert runner.main(["mnist-fnn", "--resume", str(out)]) == 0
    assert starts == [(epoch, epoch * STEPS_PER_EPOCH) for epoch in range(saved, 4)]
    assert not (out / engine.CHECKPOINT_DIR).exists()

    # Exact: each epoch's shuffle depends on the seed and the epoch alone, so the resumed
    # run ends where the uninterrupted one did, weight for weight.
    resumed, whole = metrics_of(out), metrics_of(uninterrupted)
    assert resumed["test"] == whole["test"]
    assert resumed["epochs"] == whole["epochs"] == 4
    history = (out / "history.csv").read_text()
    assert len(history.splitlines()) == 1 + 4  # every epoch, those before the crash included
    assert history == (uninterrupted / "history.csv").read_text()
    for mine, theirs in zip(weights_of(out), weights_of(uninterrupted), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def watch_every_epoch(monkeypatch, callback):
    """Adds `callback` to the callbacks the runner hands a recipe's `fit`."""
    checkpointed = engine.checkpointed
    monkeypatch.setattr(engine, "checkpointed", lambda train, **kwargs: checkpointed(
        lambda callbacks: train([*callbacks, callback]), **kwargs))


def test_conv2d_stopped_by_ctrl_c_resumes_to_the_same_weights(tmp_path, monkeypatch, capsys):
    """The convnet's dropout and shuffle are keyed by the seed: Ctrl-C in the second epoch,
    then --resume, ends weight for weight where an unbroken run does."""
    import keras

    options = ["conv2d-classifier", "--seed", "3", "--epochs", "2", "--max-samples", "300",
               "--batch-size", "32", "--quiet"]
    whole, out = tmp_path / "whole", tmp_path / "run"
    assert runner.main([*options, "--output", str(whole)]) == 0

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    with monkeypatch.context() as patch:
        watch_every_epoch(patch, CtrlC())
        assert runner.main([*options, "--output", str(out)]) == 130
    assert f"hint: continue with --resume {out}" in capsys.readouterr().err
    assert not (out / "metrics.json").exists()
    assert runner.main(["conv2d-classifier", "--resume", str(out)]) == 0
    assert metrics_of(out)["test"] == metrics_of(whole)["test"]
    assert (out / "history.csv").read_text() == (whole / "history.csv").read_text()
    for mine, theirs in zip(weights_of(out), weights_of(whole), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_gan_stopped_by_ctrl_c_mid_epoch_resumes_to_the_same_generator_and_scores(
        tmp_path, monkeypatch):
    """conditional-gan through the runner, its judge included: Ctrl-C in the second epoch,
    then --resume, ends where an unbroken run does (the noise is keyed by the step, the
    shuffle by the epoch, both restored with the checkpoint)."""
    import keras

    options = ["conditional-gan", "--seed", "3", "--epochs", "3", "--max-samples", "256",
               "--classifier-epochs", "1", "--samples-per-class", "10", "--quiet"]
    whole, out = tmp_path / "whole", tmp_path / "run"
    assert runner.main([*options, "--output", str(whole)]) == 0

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    with monkeypatch.context() as patch:
        watch_every_epoch(patch, CtrlC())
        assert runner.main([*options, "--output", str(out)]) == 130
    assert json.loads((out / engine.CHECKPOINT_DIR / "training_metadata.json").read_text())[
        "epoch"] == 1
    assert runner.main(["conditional-gan", "--resume", str(out)]) == 0
    resumed, unbroken = metrics_of(out), metrics_of(whole)
    assert resumed["steps"] == unbroken["steps"] == 3 * (256 // 64)
    for key in ("test", "final_losses", "quality", "conditional_accuracy"):
        assert resumed[key] == unbroken[key], key
    assert (out / "history.csv").read_text() == (whole / "history.csv").read_text()
    generators = [keras.saving.load_model(d / "generator.keras", safe_mode=True)
                  for d in (out, whole)]
    for mine, theirs in zip(*(g.get_weights() for g in generators), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_sgd_stopped_by_ctrl_c_resumes_its_second_pass_to_the_same_model_and_scores(
        tmp_path, monkeypatch, capsys):
    """sgd-classifier streams its file through the same runner: Ctrl-C as the second pass
    begins keeps the first pass's checkpoint; --resume, with the options the run was started
    with, runs the second pass only, the optimizer's steps (and so the cosine decay)
    continuing, and, the blocks and their rows shuffled by the seed and the pass alone,
    ends with the weights and scores of an unbroken run, near the data's Bayes accuracy."""
    import keras

    options = ["--rows", "20000", "--epochs", "2", "--block-kib", "64", "--seed", "1",
               "--quiet", "--output", str(tmp_path / "run")]
    out, whole = tmp_path / "run", tmp_path / "whole"
    assert runner.main(["sgd-classifier", *options[:-1], str(whole)]) == 0

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    with monkeypatch.context() as patch:
        watch_every_epoch(patch, CtrlC())
        assert runner.main(["sgd-classifier", *options]) == 130
    assert f"hint: continue with --resume {out}" in capsys.readouterr().err
    assert not (out / "metrics.json").exists()
    starts = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            starts.append((epoch, int(self.model.optimizer.iterations.numpy())))

    watch_every_epoch(monkeypatch, Watch())
    assert runner.main(["sgd-classifier", "--resume", str(out)]) == 0
    assert [epoch for epoch, _ in starts] == [1] and starts[0][1] > 10  # the first pass's steps
    metrics = metrics_of(out)
    assert json.loads((out / engine.RUN_OPTIONS).read_text())["argv"] == options
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 2
    assert metrics["test"]["accuracy"] >= metrics["bayes_accuracy"] - 0.02, metrics["test"]
    assert metrics["test"] == metrics_of(whole)["test"]
    for mine, theirs in zip(weights_of(out), weights_of(whole), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not (out / engine.CHECKPOINT_DIR).exists()


def test_ctrl_c_saves_says_how_to_resume_and_exits_130(tmp_path):
    out = tmp_path / "run"
    process = start([*OPTIONS, "--output", str(out)])
    wait_for_checkpoint(out, process, epochs=1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith(("error:", "hint:"))]
    assert lines[-1] == f"hint: continue with --resume {out}"
    assert "Traceback" not in err
    assert (out / engine.CHECKPOINT_DIR).is_dir() and not (out / "metrics.json").exists()
    # a plain run into that directory is refused rather than clobbering the checkpoint
    assert runner.main(["mnist-fnn", "--output", str(out), "--epochs", "1"]) == 1


def test_two_seeded_runs_give_identical_metrics(tmp_path, uninterrupted):
    out = tmp_path / "again"
    assert runner.main(["mnist-fnn", *OPTIONS, "--quiet", "--output", str(out)]) == 0
    assert metrics_of(out)["test"] == metrics_of(uninterrupted)["test"]


@pytest.mark.parametrize("setup, message", [
    (lambda d: d.mkdir(), "no checkpoint to resume from"),
    (lambda d: (d.mkdir(), (d / "metrics.json").write_text("{}")), "finished run"),
])
def test_resume_refuses_what_it_cannot_resume(tmp_path, capsys, setup, message):
    target = tmp_path / "run"
    setup(target)
    assert runner.main(["mnist-fnn", "--resume", str(target)]) == 1
    assert message in capsys.readouterr().err


def test_nan_loss_stops_training_with_a_hint(tmp_path):
    import keras

    x = np.ones((64, 3), "float32")
    x[5, 1] = np.nan
    y = np.zeros((64, 1), "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    run = RunDir(tmp_path)
    with pytest.raises(RecipeError, match="NaN") as caught:
        engine.checkpointed(lambda callbacks: model.fit(_dataset(x, y), epochs=3, verbose=0,
                                                        callbacks=callbacks),
                            run=run, epochs=3)
    assert "learning-rate" in caught.value.hint and "NaN or inf" in caught.value.hint


def _dataset(x, y):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def test_no_recipe_uses_lambda_layers():
    """Lambda layers cannot be loaded with safe_mode on; no recipe may use one."""
    for path in sorted((ROOT / "recipes").glob("*.py")):
        assert "layers.Lambda" not in path.read_text(), path.name


def test_a_second_recipe_repeats_exactly_with_a_seed(tmp_path):
    from recipes import runner

    results = []
    for name in ("first", "second"):
        out = tmp_path / name
        assert runner.run("linear-regression", ["--seed", "11", "--quiet", "--output",
                                                str(out)]) == 0
        results.append(metrics_of(out)["test"])
    assert results[0] == results[1]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_mode_open_would_give_them(tmp_path, umask, mode):
    """Atomic writes go through mkstemp (0600), but the finished file must not stay that
    private: under umask 022 group and others can read it, as with a plain open()."""
    import stat

    from advisor import copier
    from recipes import catalog, common

    previous = os.umask(umask)
    try:
        assert common.current_umask() == umask
        run = RunDir(tmp_path)
        written = [run.write_text("notes.txt", "x"), run.write_json("metrics.json", {"a": 1}),
                   run.write_history({"loss": [1.0, 0.5]})]
        files = copier.plan(catalog.get("neuron-math"), tmp_path / "copy")
        written += [f.dest for f in copier.write(files, overwrite=False)]
    finally:
        os.umask(previous)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
