"""The shipped samples are real, intact and the size they claim."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from recipes.data import datasets_dir

DATA = datasets_dir()


def recorded_sums():
    lines = (DATA / "SHA256SUMS").read_text().splitlines()
    return dict(reversed(line.split(maxsplit=1)) for line in lines if line.strip())


def test_every_data_file_is_listed_with_a_checksum():
    data_files = {p.name for p in DATA.iterdir()
                  if p.suffix in (".npz", ".csv") and not p.name.startswith(".")}
    assert data_files == set(recorded_sums())


@pytest.mark.parametrize("name", sorted(recorded_sums()))
def test_shipped_file_matches_its_sha256_and_is_small(name):
    path = DATA / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded_sums()[name]
    assert path.stat().st_size <= 3 * 1024 * 1024


@pytest.mark.parametrize("name", ["mnist_sample.npz", "fashion_mnist_sample.npz"])
def test_image_samples_are_balanced_uint8_images(name):
    with np.load(DATA / name) as archive:
        assert archive["x_train"].shape == (4000, 28, 28)
        assert archive["x_test"].shape == (1000, 28, 28)
        assert archive["x_train"].dtype == np.uint8
        assert archive["x_train"].max() > 200  # real pixels on the 0-255 scale
        assert np.bincount(archive["y_train"]).tolist() == [400] * 10
        assert np.bincount(archive["y_test"]).tolist() == [100] * 10


def test_tables_have_the_documented_columns_and_rows():
    assert pd.read_csv(DATA / "taylor.csv").shape == (4032, 2)
    assert pd.read_csv(DATA / "autompg.csv").columns[-1] == "mpg"
    cancer = pd.read_csv(DATA / "breast_cancer.csv")
    assert cancer.shape == (569, 31)
    assert set(cancer["benign"]) == {0, 1}
    weather = pd.read_csv(DATA / "seattle_weather.csv")
    assert len(weather) == 1461


def test_datasets_folder_is_not_an_importable_package():
    assert not (DATA / "__init__.py").exists()


def test_the_mixed_type_tables_keep_their_strings_and_missing_values():
    penguins = pd.read_csv(DATA / "penguins.csv")
    assert penguins.shape == (344, 8)
    assert sorted(penguins["species"].unique()) == ["Adelie", "Chinstrap", "Gentoo"]
    assert penguins["sex"].isna().sum() == 11
    default = pd.read_csv(DATA / "default.csv")
    assert set(default["default"]) == {"Yes", "No"} and len(default) == 10_000
    assert pd.read_csv(DATA / "hitters.csv")["Salary"].isna().sum() == 59
    credit = pd.read_csv(DATA / "credit.csv")
    assert credit["ID"].tolist() == list(range(1, 401))
    smarket = pd.read_csv(DATA / "smarket.csv")
    assert ((smarket["Today"] >= 0) == (smarket["Direction"] == "Up")).all()  # the leak
