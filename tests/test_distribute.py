"""tf.distribute on a CPU: two logical devices under MirroredStrategy, and two worker
processes on 127.0.0.1 under MultiWorkerMirroredStrategy."""

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT

MIRRORED = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from recipes import runner
sys.exit(runner.main(sys.argv[1:]))
"""


def run_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def train_on_two_cpu_devices(runs):
    """Trains mnist-fnn once per {output: options}, side by side; returns each one's metrics."""
    processes = {out: subprocess.Popen(
        [sys.executable, "-c", MIRRORED, "mnist-fnn", "--seed", "1", "--epochs", "3",
         "--max-samples",
         "2000", "--quiet", "--output", str(out), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=run_env())
        for out, options in runs.items()}
    for process in processes.values():
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
    return [json.loads((out / "metrics.json").read_text()) for out in runs]


def losses(out):
    history = (out / "history.csv").read_text().splitlines()
    column = history[0].split(",").index("loss")
    return [float(line.split(",")[column]) for line in history[1:]]


def test_mirrored_over_two_cpu_devices_learns_like_one_device(tmp_path):
    # --batch-size is per replica: 2 x 64 = the single-device default of 128. With the same
    # seed the two runs see the same batches, and the mean of the two replicas' gradients is
    # the gradient of the whole batch: they differ by rounding at most.
    mirrored, single = train_on_two_cpu_devices({
        tmp_path / "mirrored": ["--strategy", "mirrored", "--batch-size", "64"],
        tmp_path / "single": ["--strategy", "one-device"]})
    assert mirrored["engine"]["strategy"] == "MirroredStrategy"
    assert mirrored["engine"]["replicas"] == 2 and mirrored["batch_size"] == 128
    assert single["engine"]["replicas"] == 1 and single["batch_size"] == 128
    assert losses(tmp_path / "mirrored") == pytest.approx(losses(tmp_path / "single"),
                                                          rel=0.005)
    assert mirrored["test"]["accuracy"] == pytest.approx(single["test"]["accuracy"], abs=0.005)
    assert single["test"]["accuracy"] >= 0.8  # and both learned: chance is 0.1


@pytest.mark.parametrize("name, options", [
    pytest.param("conditional-gan", ["--epochs", "1", "--max-samples", "1280",
                                     "--classifier-epochs", "1", "--samples-per-class", "10"],
                 marks=pytest.mark.large),  # its custom train_step mirrored: a slow check
    ("lstm-forecaster", ["--epochs", "2", "--max-windows", "1000"]),
])
def test_the_gan_and_the_forecaster_train_mirrored_over_two_cpu_devices(name, options,
                                                                       tmp_path):
    """Through the runner, each batch split over two replicas (32 each)."""
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", MIRRORED, name, "--strategy", "mirrored",
                           "--batch-size", "32", "--seed", "1", "--quiet", "--output",
                           str(out), *options],
                          capture_output=True, text=True, env=run_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["engine"]["replicas"] == 2 and metrics["batch_size"] == 64
    test = metrics["test"]
    if name == "conditional-gan":  # 20 steps: the discriminator tells real from generated
        assert metrics["steps"] == 1280 // 64 and test["d_accuracy"] > 0.6  # chance: 0.5
    else:
        assert test["model"]["mae"] < test["persistence"]["mae"]


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_train_together_and_only_the_chief_writes(tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "recipes.runner", "mnist-fnn", "--strategy", "multi-worker",
             "--epochs", "1", "--max-samples", "1000", "--quiet",
             "--output", str(tmp_path / f"worker{index}")],
            cwd=tmp_path, env=run_env(TF_CONFIG=config),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err[-2000:]
    chief = tmp_path / "worker0"
    metrics = json.loads((chief / "metrics.json").read_text())
    assert metrics["engine"]["strategy"] == "MultiWorkerMirroredStrategy"
    assert metrics["engine"]["replicas"] == 2  # one per worker: they trained together
    assert metrics["batch_size"] == 2 * 128  # --batch-size is per replica
    assert (chief / "model.keras").is_file()
    assert metrics["test"]["accuracy"] > 0.5  # one short epoch; chance is 0.1
    assert not (tmp_path / "worker1").exists()
    assert "the chief worker writes the run" in results[1][1]


def test_two_sgd_workers_each_stream_their_own_half_and_train_on_every_row_once(tmp_path):
    """sgd-classifier under MultiWorkerMirroredStrategy: each worker reads only its own
    blocks (about half the bytes each), together they train on every training row exactly
    once, and the model is as good as the data allows."""
    from recipes import sgd_classifier

    path = tmp_path / "data.csv"
    description = sgd_classifier.make_big_csv().write_csv(path, 40_000, seed=1, mixed=True)
    stream = sgd_classifier.load_data(str(path), config=sgd_classifier.Config(sample_rows=2000))
    train_rows = sum(sgd_classifier.count_lines(*block) for block in zip(
        stream.train.paths, stream.train.starts, stream.train.lengths, strict=True))
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "recipes.runner", "sgd-classifier", "--strategy",
             "multi-worker", "--data", str(path), "--batch-size", "256", "--quiet", "--json",
             "--output", str(tmp_path / f"worker{index}")],
            cwd=tmp_path, env=run_env(TF_CONFIG=config),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [w.communicate(timeout=600) for w in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err[-2000:]
    runs = [json.loads(out[out.index("{\n"):]) for out, _ in results]
    assert [run["worker"] for run in runs] == [{"index": 0, "of": 2}, {"index": 1, "of": 2}]
    assert sum(run["train_rows_seen"] for run in runs) == train_rows
    assert sum(run["train_bytes_read"] for run in runs) == stream.train.nbytes()
    for run in runs:
        assert 0.4 < run["train_bytes_read"] / stream.train.nbytes() < 0.6
    chief = json.loads((tmp_path / "worker0" / "metrics.json").read_text())
    assert chief["test"]["accuracy"] >= description["bayes_accuracy"] - 0.03
    assert runs[1]["test"] == chief["test"]  # one model: the same test metrics everywhere
    assert chief["batch_size"] == 2 * 256  # --batch-size is per worker
    assert not (tmp_path / "worker1").exists()


def test_the_keras_20585_workaround_still_fits_this_keras():
    """recipes/engine.py patches Keras internals for keras-team/keras#20585; a Keras that
    changed them must be noticed here, not on someone's cluster."""
    from recipes import engine

    changed = engine.keras_internals_for_20585()
    assert not changed, (
        "keras-team/keras#20585: the multi-worker workaround in recipes/engine.py "
        f"(_prepare_multi_worker) no longer fits this Keras: {changed}. If the issue is "
        "fixed upstream, remove the workaround; else redo it for the new internals.")


def test_the_workaround_refuses_a_keras_that_changed(monkeypatch):
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from recipes import engine

    monkeypatch.delattr(tf_trainer, "_collective_all_reduce_multi_worker")
    changed = engine.keras_internals_for_20585()
    assert changed and "_collective_all_reduce_multi_worker is gone" in changed[0]
