"""Test settings: no network, no GPU, quiet TensorFlow, a private KERAS_HOME."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("NO_COLOR", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _private_keras_home(tmp_path_factory, monkeypatch):
    """Downloads (and their failures) never touch the user's ~/.keras."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.getbasetemp() / "keras-home"))


@pytest.fixture
def python():
    return sys.executable
