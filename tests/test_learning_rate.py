"""The image classifiers' learning rate falls along a cosine to zero exactly at the last step."""

import numpy as np
import pytest

from recipes import conv2d_classifier, mnist_fnn

RECIPES = pytest.mark.parametrize("recipe", [mnist_fnn, conv2d_classifier],
                                  ids=lambda recipe: recipe.NAME)


def images(n=70):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(n, 12, 12, 1)).astype("uint8")
    return x, (x.reshape(n, -1).mean(axis=1) > 127).astype("int64")


@RECIPES
def test_the_rate_falls_from_its_start_to_zero_at_the_last_step(recipe):
    x, y = images()
    # 70 images, 7 held out for validation, 63 fitted in batches of 16: 4 steps an epoch
    # (the last one short), 12 steps in three epochs.
    config = recipe.Config(epochs=3, batch_size=16, learning_rate=4e-3, seed=1)
    model = recipe.build_model((12, 12, 1), 2, config, train_examples=len(x))
    schedule = model.optimizer._learning_rate  # the schedule behind `learning_rate`
    assert float(schedule(6)) == pytest.approx(2e-3)  # half way
    assert float(model.optimizer.learning_rate) == pytest.approx(4e-3)

    history = recipe.train(model, x, y, config, verbose=0)
    assert len(history["loss"]) == 3
    assert int(model.optimizer.iterations) == 12
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-12)


@RECIPES
def test_without_the_number_of_examples_the_rate_stays_constant(recipe):
    x, y = images()
    config = recipe.Config(epochs=1, batch_size=16, learning_rate=4e-3, seed=1)
    model = recipe.build_model((12, 12, 1), 2, config)
    recipe.train(model, x, y, config, verbose=0)
    assert int(model.optimizer.iterations) == 4
    assert float(model.optimizer.learning_rate) == pytest.approx(4e-3)
