"""A non-editable install carries the shipped data and finds it from any directory."""

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (path,) = out.glob("keras_recipes-*.whl")
    return path


def test_wheel_carries_packages_data_and_console_script(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for data_file in ("mnist_sample.npz", "fashion_mnist_sample.npz", "taylor.csv",
                      "autompg.csv", "breast_cancer.csv", "seattle_weather.csv", "SHA256SUMS"):
        assert f"recipes/_datasets/{data_file}" in names
    assert "advisor/cli.py" in names and "recipes/mnist_fnn.py" in names
    assert "advisor/rules.toml" in names  # the decision table travels as package data
    assert not any(name.startswith("datasets/") for name in names)  # no top-level `datasets`
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "advisor = advisor.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_copy_loads_its_samples_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import recipes.data as d; p = d.datasets_dir(); "
            "print(p); print(d.load_images('sample', 'mnist').x_train.shape)")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(target), "PATH": ""})
    where, shape = out.stdout.splitlines()
    assert where.startswith(str(target)) and shape == "(4000, 28, 28, 1)"
