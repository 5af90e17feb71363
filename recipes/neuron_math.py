# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "rich"]
# ///
"""
Title: One layer of sigmoid neurons, by hand and by automatic differentiation
Description: The worked example of a forward pass, the output error, the gradients and one
gradient-descent update, computed with keras.ops and checked against Keras' own autodiff.

The example: inputs x = [2.0, 3.0], weights W = [[0.5, -1.2], [0.8, 0.7]] (row i holds the
weights into neuron i), biases b = [0.1, -0.3], sigmoid activation, target 1.0 for both
outputs, loss L = 1/2 * sum((a - target)^2), learning rate 0.1.

    z = W x + b                 a = sigmoid(z)              error = a - target
    delta = error * a * (1 - a) dL/dW_ij = delta_i * x_j    dL/db_i = delta_i
    W <- W - lr * dL/dW         b <- b - lr * dL/db

The design document's printed figures carry two slips, shown beside the true values:
z2 = 0.8*2 + 0.7*3 - 0.3 is 3.4, not 3.0; and its gradients for W21 and W22 multiply delta2
by the layer's activations instead of by the inputs x. The "design" column below repeats the
design's steps with those slips, so each of its numbers follows from the printed z2 = 3.0.

    python -m recipes.neuron_math            # table of every step
    python -m recipes.neuron_math --json     # the same as JSON
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from recipes import common

NAME = "neuron-math"


"""
## Setup
"""


@dataclass
class Config:
    x: list[float] = field(default_factory=lambda: [2.0, 3.0])
    weights: list[list[float]] = field(default_factory=lambda: [[0.5, -1.2], [0.8, 0.7]])
    bias: list[float] = field(default_factory=lambda: [0.1, -0.3])
    target: float = 1.0
    learning_rate: float = 0.1


"""
## Build the model: the same layer as a Keras Dense(2, sigmoid)

Keras stores a Dense kernel as (inputs, units), the transpose of W here.
"""


def build_model(config: Config | None = None):
    import keras

    config = config or Config()
    layer = keras.layers.Dense(2, activation="sigmoid", name="neurons")
    model = keras.Sequential([keras.Input(shape=(2,)), layer], name="neuron_math")
    layer.set_weights([np.array(config.weights, dtype="float32").T,
                       np.array(config.bias, dtype="float32")])
    return model


"""
## Forward pass and gradients, step by step with keras.ops
"""


def forward_by_hand(config: Config) -> dict[str, np.ndarray]:
    from keras import ops

    x = ops.convert_to_tensor(np.array(config.x, dtype="float64"))
    w = ops.convert_to_tensor(np.array(config.weights, dtype="float64"))
    b = ops.convert_to_tensor(np.array(config.bias, dtype="float64"))
    z = ops.matmul(w, x) + b
    a = ops.sigmoid(z)
    error = a - config.target
    delta = error * a * (1.0 - a)
    grad_w = ops.outer(delta, x)
    grad_b = delta
    steps = {"z": z, "a": a, "error": error, "delta": delta, "grad_W": grad_w, "grad_b": grad_b,
             "loss": 0.5 * ops.sum(error**2),
             "W_new": w - config.learning_rate * grad_w, "b_new": b - config.learning_rate * grad_b}
    return {k: np.asarray(ops.convert_to_numpy(v)) for k, v in steps.items()}


"""
## Train: one step of gradient descent, gradients from automatic differentiation
"""


def train(model, config: Config) -> dict[str, np.ndarray]:
    """One SGD step on the example; returns autodiff's gradients and the updated weights."""
    import keras
    import tensorflow as tf

    x = tf.constant([config.x], dtype="float32")
    target = tf.fill((1, 2), float(config.target))
    with tf.GradientTape() as tape:
        a = model(x)
        loss = 0.5 * keras.ops.sum((a - target) ** 2)
    kernel, bias = model.trainable_variables
    grad_kernel, grad_bias = tape.gradient(loss, [kernel, bias])
    keras.optimizers.SGD(config.learning_rate).apply_gradients(
        [(grad_kernel, kernel), (grad_bias, bias)])
    return {"loss": float(loss), "grad_W": grad_kernel.numpy().T, "grad_b": grad_bias.numpy(),
            "W_new": kernel.numpy().T, "b_new": bias.numpy()}


def design_figures(config: Config) -> dict[str, np.ndarray]:
    """The design's steps with its two slips: z2 = 3.0, and dL/dW2j = delta2 * a_j."""
    x = np.array(config.x)
    w = np.array(config.weights)
    b = np.array(config.bias)
    z = w @ x + b
    z[1] = 3.0
    a = 1 / (1 + np.exp(-z))
    error = a - config.target
    delta = error * a * (1 - a)
    grad_w = np.outer(delta, x)
    grad_w[1] = delta[1] * a
    return {"z": z, "a": a, "error": error, "delta": delta, "grad_W": grad_w, "grad_b": delta,
            "loss": 0.5 * np.sum(error**2),
            "W_new": w - config.learning_rate * grad_w, "b_new": b - config.learning_rate * delta}


"""
## Evaluate: the hand computation must agree with autodiff
"""


def evaluate(by_hand: dict, autodiff: dict, atol: float = 1e-5) -> dict[str, bool]:
    return {k: bool(np.allclose(by_hand[k], autodiff[k], atol=atol)) for k in autodiff}


def _rows(true: dict, design: dict):
    labels = {"z": "z{i}", "a": "a{i}", "error": "error{i}", "delta": "delta{i}",
              "grad_W": "dL/dW{i}{j}", "grad_b": "dL/db{i}", "W_new": "W{i}{j} new",
              "b_new": "b{i} new", "loss": "loss"}
    for key, label in labels.items():
        t, d = np.atleast_1d(true[key]), np.atleast_1d(design[key])
        for index in np.ndindex(t.shape):
            name = label.format(i=index[0] + 1 if key != "loss" else "",
                                j=index[1] + 1 if len(index) > 1 else "")
            yield name, float(t[index]), float(d[index])


def parse_args(argv: Sequence[str] | None):
    parser = common.Parser(prog=common.program_name("neuron_math"),
                           description="Compute the single-layer neuron example step by step.")
    parser.add_argument("--learning-rate", type=common.positive_float, default=0.1,
                        help="step size of the one gradient-descent update")
    parser.add_argument("--target", type=float, default=1.0,
                        help="the value both neurons should output")
    parser.add_argument("--json", action="store_true", help="print the steps as JSON")
    return parser.parse_args(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    config = Config(target=args.target, learning_rate=args.learning_rate)
    by_hand = forward_by_hand(config)
    autodiff = train(build_model(config), config)
    agree = evaluate(by_hand, autodiff)
    if not all(agree.values()):
        raise common.RecipeError(f"hand and autodiff gradients disagree: {agree}")
    design = design_figures(config)
    rows = [(n, t, d, not np.isclose(t, d, rtol=1e-4, atol=1e-7))
            for n, t, d in _rows(by_hand, design)]
    if args.json:
        print(json.dumps({"recipe": NAME, "autodiff_agrees": True,
                          "steps": [{"step": n, "true": t, "design": d, "differs": bad}
                                    for n, t, d, bad in rows]}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="One sigmoid layer: true values (keras.ops, checked by autodiff) "
                        "against the design's figures")
    for column in ("step", "true", "design", ""):
        table.add_column(column, justify="right" if column in ("true", "design") else "left")
    for name, true, design_value, bad in rows:
        table.add_row(name, f"{true:.6f}", f"{design_value:.6f}", "<- differs" if bad else "")
    Console().print(table)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
