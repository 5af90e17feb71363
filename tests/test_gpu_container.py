"""The GPU container, checked statically (`make docker-smoke` builds and runs it where Docker
is available), `advisor doctor`, and the engine options every deep-learning recipe shares
(--mixed-precision, --jit)."""

import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from recipes import runner
from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile.gpu").read_text()
INSTRUCTIONS = [line.strip() for line in DOCKERFILE.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]


def test_base_image_is_pinned_to_an_exact_version_and_can_be_replaced():
    # `ARG BASE_IMAGE=...` before `FROM ${BASE_IMAGE}`: a mirror or a local stand-in is
    # passed with --build-arg, and the pinned default is what everyone else builds.
    (base,) = [line.split("=", 1)[1] for line in INSTRUCTIONS
               if line.startswith("ARG BASE_IMAGE=")]
    (origin,) = [line.split()[1] for line in INSTRUCTIONS if line.startswith("FROM ")]
    assert origin == "${BASE_IMAGE}"
    assert INSTRUCTIONS.index(f"ARG BASE_IMAGE={base}") < INSTRUCTIONS.index("FROM ${BASE_IMAGE}")
    name, _, tag = base.partition(":")
    assert tag and tag != "latest" and re.match(r"\d+\.\d+\.\d+", tag), base
    assert "tensorflow/tensorflow" not in name  # see the comment in the Dockerfile
    assert re.search(r'tensorflow\[and-cuda\]==\$\{TENSORFLOW_VERSION\}', DOCKERFILE)
    assert re.search(r"ARG TENSORFLOW_VERSION=\d+\.\d+\.\d+", DOCKERFILE)
    assert re.search(r"ARG KERAS_VERSION=\d+\.\d+\.\d+", DOCKERFILE)


def test_runs_as_a_non_root_user_with_the_advisor_as_entrypoint():
    users = [line.split()[1] for line in INSTRUCTIONS if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["advisor"]' in INSTRUCTIONS
    assert any(line.startswith("ENV") for line in INSTRUCTIONS)
    assert "KERAS_HOME=/keras-cache" in DOCKERFILE and "VOLUME" in DOCKERFILE


def test_installs_the_project_non_editably_with_its_data():
    assert "COPY datasets/ datasets/" in DOCKERFILE
    assert "pip install" in DOCKERFILE and " -e " not in DOCKERFILE
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert "*" in ignore and "!datasets/" in ignore and "!recipes/" in ignore


def test_tensorflow_is_installed_before_the_code_is_copied():
    # A change under recipes/ or advisor/ rebuilds only the small layers after TensorFlow's.
    def first(prefix):
        return next(i for i, line in enumerate(INSTRUCTIONS) if line.startswith(prefix))

    heavy = first("RUN python -c 'import tomllib")
    assert "tensorflow[and-cuda]" in " ".join(INSTRUCTIONS[heavy:first("COPY README.md")])
    assert first("COPY pyproject.toml") < heavy
    for code in ("COPY recipes/", "COPY advisor/", "COPY datasets/", "COPY README.md"):
        assert first(code) > heavy, code
    assert "pip install --no-cache-dir --no-deps ./" in DOCKERFILE


def test_no_secrets_in_the_image():
    pattern = re.compile(r"(password|passwd|secret|token|api[_-]?key|AKIA[0-9A-Z]{16})", re.I)
    assert not pattern.search(DOCKERFILE)


HADOLINT = shutil.which("hadolint") or shutil.which("hadolint",
                                                   path=str(Path(sys.executable).parent))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed")
def test_hadolint_finds_nothing():
    result = subprocess.run([HADOLINT, "--no-color", str(ROOT / "Dockerfile.gpu")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


SMOKE = ROOT / "scripts" / "docker-smoke.sh"


def test_the_smoke_script_says_plainly_when_docker_is_missing(tmp_path):
    # `make docker-smoke` exits 77 (skipped) with a reason, and leaves nothing behind.
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "mktemp", "rm", "awk", "sort", "id"):
        (tools / tool).symlink_to(shutil.which(tool))
    result = subprocess.run([str(tools / "bash"), str(SMOKE)], capture_output=True, text=True,
                            env={"PATH": str(tools), "TMPDIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 77, result.stderr
    assert "cannot run" in result.stderr and "docker" in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_finds_nothing_in_the_smoke_script():
    result = subprocess.run(["shellcheck", str(SMOKE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_doctor_reports_versions_devices_and_the_cache(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    import keras
    import tensorflow as tf

    assert report["tensorflow"] == tf.__version__ and report["keras"] == keras.__version__
    assert report["keras_home"] == str(tmp_path)
    assert report["cached_datasets"]["mnist"] is True
    assert report["cached_datasets"]["fashion-mnist"] is False
    assert report["xla"].startswith("yes")
    assert isinstance(report["gpus"], list)


@pytest.fixture
def without_op_determinism():
    """A seeded run earlier in this process leaves TensorFlow's op determinism on, and Keras
    then quietly drops XLA: this test runs without it, as a fresh process would."""
    from tensorflow.python.framework import config  # no public switch to turn it off

    was_on = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if was_on:
        config.enable_op_determinism()


@pytest.mark.parametrize("option", ["--mixed-precision", "--jit"])
def test_engine_options_train_a_recipe(option, tmp_path, without_op_determinism):
    import keras

    out = tmp_path / "run"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert runner.main(["mnist-fnn", option, "--epochs", "2", "--max-samples", "2000",
                                "--quiet", "--output", str(out)]) == 0
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # Keras turns XLA off, with only a warning, where it cannot be used (under op determinism)
    assert not [w for w in caught if "jit_compile=False" in str(w.message)]
    metrics = json.loads((out / "metrics.json").read_text())
    key = "mixed_precision" if option == "--mixed-precision" else "jit_compile"
    assert metrics["engine"][key] is True
    assert metrics["test"]["accuracy"] > 0.75  # two short epochs; chance is 0.1
    model = keras.saving.load_model(out / "model.keras", safe_mode=True, compile=False)
    assert model.layers[-1].dtype_policy.compute_dtype == "float32"  # an exact softmax
    hidden = model.layers[1]
    assert hidden.dtype_policy.variable_dtype == "float32"  # weights are kept in float32
    images = np.zeros((2, 28, 28, 1), "float32")
    activations = keras.Model(model.inputs, hidden.output)([images])
    if option == "--mixed-precision":
        assert hidden.dtype_policy.name == "mixed_float16"
        assert activations.dtype == "float16"  # the hidden layer computes in half precision
    else:
        assert hidden.dtype_policy.name == "float32" and activations.dtype == "float32"
