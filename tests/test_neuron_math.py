"""The neuron worked example: the true arithmetic, checked by hand and by autodiff."""

import json

import numpy as np
import pytest

from recipes import neuron_math


def test_true_values_of_the_worked_example():
    steps = neuron_math.forward_by_hand(neuron_math.Config())
    z = np.array([0.5 * 2 - 1.2 * 3 + 0.1, 0.8 * 2 + 0.7 * 3 - 0.3])  # [-2.5, 3.4]
    a = 1 / (1 + np.exp(-z))
    delta = (a - 1.0) * a * (1 - a)
    np.testing.assert_allclose(steps["z"], [-2.5, 3.4])
    np.testing.assert_allclose(steps["a"], a)
    np.testing.assert_allclose(steps["grad_W"], np.outer(delta, [2.0, 3.0]))
    np.testing.assert_allclose(steps["grad_b"], delta)
    np.testing.assert_allclose(steps["W_new"],
                               np.array([[0.5, -1.2], [0.8, 0.7]]) - 0.1 * np.outer(delta, [2, 3]))
    assert steps["a"][0] == pytest.approx(0.0758582, abs=1e-6)
    assert steps["grad_W"][0, 1] == pytest.approx(-0.1943573, abs=1e-6)


def test_autodiff_agrees_with_the_hand_computation():
    config = neuron_math.Config()
    autodiff = neuron_math.train(neuron_math.build_model(config), config)
    assert all(neuron_math.evaluate(neuron_math.forward_by_hand(config), autodiff).values())


def test_json_marks_where_the_design_differs(capsys):
    assert neuron_math.main(["--json"]) == 0
    steps = {row["step"]: row for row in json.loads(capsys.readouterr().out)["steps"]}
    assert steps["z2"]["true"] == pytest.approx(3.4) and steps["z2"]["design"] == 3.0
    assert steps["z2"]["differs"] and not steps["z1"]["differs"]
    assert steps["dL/dW21"]["differs"] and not steps["dL/dW11"]["differs"]
