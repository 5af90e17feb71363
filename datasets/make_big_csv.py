"""Write a large CSV drawn from a known logistic model, as big as you like.

The data for sgd-classifier and its benchmark: a table that can be larger than memory,
whose true model is known, so the best accuracy any classifier can reach on it (the Bayes
accuracy) is known too.

    python datasets/make_big_csv.py big.csv --rows 1000000     # about 170 MB, a few seconds
    python datasets/make_big_csv.py big.csv --rows 10000000    # about 1.7 GB
    python datasets/make_big_csv.py test.csv --rows 100000 --seed 1   # a test file, same model

Columns: x1 ... x20 (floats with 4 decimals, each with its own mean and scale, from
about 0.1 to 100, so that standardising matters) and `label` (0 or 1). The true model:

    P(label = 1) = sigmoid(bias + sum_j w_j * (x_j - mean_j) / scale_j)

with about a third of the w_j zero (features that carry nothing). It is applied to the
values as written (after rounding), so it is exactly the model of the file. Beside the CSV,
`<name>.json` records the model, the row count and the Bayes accuracy: the mean over rows
of max(p, 1 - p), what a classifier that knew the true model would score on average.

Rows are generated and written 100,000 at a time, so memory stays small for any --rows.
The output is deterministic for given --rows, --features, --seed and --model-seed. Only
NumPy is needed (and pandas for --mixed).

`--mixed` writes a table as real ones come instead: an `id` column (the row number), a
constant `source` column, the numbers x1 ... xN with about 3% of their cells empty, three
string categories (`colour`, `region`, `plan`, also 3% empty) and a `label` of Yes/No. Its
true model is still linear in what a careful preprocessing makes of a row, so its Bayes
accuracy is still known:

    logit = bias + sum_j (w_j * (x_j - mean_j) / scale_j  if x_j is there, else m_j)
                 + sum_c effect_c[value of c, or "" when it is empty]

    python datasets/make_big_csv.py mixed.csv --rows 1000000 --mixed
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

CHUNK_ROWS = 100_000
DECIMALS = 4
MISSING_SHARE = 0.03  # of the cells of each number and category column, with --mixed
CATEGORIES = {  # --mixed: the string columns and their values
    "colour": ["red", "green", "blue", "black", "white"],
    "region": ["north", "south", "east", "west", "centre", "islands", "abroad"],
    "plan": ["basic", "plus", "pro"],
}


def true_model(features: int = 20, seed: int = 0) -> dict:
    """The generating model: standardised weights (a third of them zero), bias, means, scales."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 1.0, features)
    weights[rng.permutation(features)[: features // 3]] = 0.0
    weights *= 2.5 / np.linalg.norm(weights)  # logit spread: Bayes accuracy about 0.81
    return {
        "weights": np.round(weights, 6).tolist(),
        "bias": 0.3,
        "means": np.round(rng.uniform(-50, 50, features), 2).tolist(),
        "scales": np.round(10 ** rng.uniform(-1, 2, features), 3).tolist(),
    }


def mixed_model(features: int = 20, seed: int = 0) -> dict:
    """`true_model` plus what --mixed adds: the logit of an empty number cell (m_j), and of
    each category's values (the empty one included, as "")."""
    model = true_model(features, seed)
    rng = np.random.default_rng(seed + 1000)
    model["missing_effects"] = np.round(rng.normal(0.0, 0.5, features), 6).tolist()
    model["categories"] = {name: {value: round(float(rng.normal(0.0, 0.6)), 6)
                                  for value in ["", *values]}
                           for name, values in CATEGORIES.items()}
    return model


def mixed_logit(model: dict, numbers: np.ndarray, categories: dict) -> np.ndarray:
    """The true logit of rows: `numbers` with NaN where a cell is empty, `categories` as
    {column: array of strings, "" where empty}."""
    weights, means, scales, missing = (np.array(model[k]) for k in
                                       ("weights", "means", "scales", "missing_effects"))
    terms = np.where(np.isnan(numbers), missing, ((numbers - means) / scales) * weights)
    logit = model["bias"] + terms.sum(axis=1)
    for name, effects in model["categories"].items():
        values = np.asarray(categories[name], dtype=object)
        logit = logit + np.array([effects[v] for v in values], dtype=float)
    return logit


def format_rows(values: np.ndarray, decimals: list[int]) -> bytes:
    """CSV text for a 2-D array, each column with its own number of decimals, fast.

    Every character of every cell is computed with array arithmetic into a fixed-width
    grid (blank = byte 0), then the blanks are squeezed out: no Python loop over rows.
    """
    n, k = values.shape
    columns = []
    for j in range(k):
        column = values[:, j].astype(np.float64)
        scaled = np.rint(np.abs(column) * 10 ** decimals[j]).astype(np.int64)
        negative = (column < 0) & (scaled > 0)
        int_digits = len(str(int(scaled.max()) // 10 ** decimals[j])) if n else 1
        width = 1 + int_digits + (1 + decimals[j] if decimals[j] else 0) + 1
        grid = np.zeros((width, n), dtype=np.uint8)
        grid[0] = negative * ord("-")
        rest = scaled
        for pos in range(width - 2, 0, -1):  # right to left
            if decimals[j] and pos == 1 + int_digits:
                grid[pos] = ord(".")
                continue
            digit = rest % 10
            rest = rest // 10
            if pos <= int_digits:  # an integer digit: blank when it is a leading zero
                grid[pos] = np.where((rest > 0) | (digit > 0) | (pos == int_digits), digit + 48, 0)
            else:
                grid[pos] = digit + 48
        grid[-1] = ord("\n") if j == k - 1 else ord(",")
        columns.append(grid)
    cells = np.ascontiguousarray(np.concatenate(columns, axis=0).T)
    return cells[cells != 0].tobytes()


def write_csv(path: Path | str, rows: int, features: int = 20, seed: int = 0,
              model_seed: int = 0, mixed: bool = False) -> dict:
    """Writes the CSV and its `.json` description; returns the description.

    `seed` draws the rows, `model_seed` the true model: files written with different seeds
    and the same model seed are fresh samples of one problem (a training and a test file).
    `mixed`: the mixed-type table described at the top.
    """
    if mixed:
        return write_mixed_csv(path, rows, features, seed, model_seed)
    path = Path(path)
    model = true_model(features, model_seed)
    weights, means, scales = (np.array(model[k]) for k in ("weights", "means", "scales"))
    rng = np.random.default_rng(seed + 1)
    bayes_sum, positives = 0.0, 0
    header = ",".join([*(f"x{j + 1}" for j in range(features)), "label"]) + "\n"
    with open(path, "wb") as handle:
        handle.write(header.encode())
        for start in range(0, rows, CHUNK_ROWS):
            count = min(CHUNK_ROWS, rows - start)
            x = np.round(means + scales * rng.standard_normal((count, features)), DECIMALS)
            p = 1.0 / (1.0 + np.exp(-(model["bias"] + ((x - means) / scales) @ weights)))
            y = (rng.random(count) < p).astype(np.float64)
            bayes_sum += float(np.maximum(p, 1 - p).sum())
            positives += int(y.sum())
            handle.write(format_rows(np.column_stack([x, y]), [DECIMALS] * features + [0]))
    description = {
        "file": path.name,
        "rows": rows,
        "features": [f"x{j + 1}" for j in range(features)],
        "target": "label",
        "seed": seed,
        "model_seed": model_seed,
        "positive_share": positives / max(rows, 1),
        "bayes_accuracy": bayes_sum / max(rows, 1),
        "model": model,
    }
    description_path(path).write_text(json.dumps(description, indent=2) + "\n")
    return description


def write_mixed_csv(path: Path | str, rows: int, features: int = 20, seed: int = 0,
                    model_seed: int = 0) -> dict:
    import pandas as pd

    path = Path(path)
    model = mixed_model(features, model_seed)
    means, scales = np.array(model["means"]), np.array(model["scales"])
    rng = np.random.default_rng(seed + 1)
    bayes_sum, positives = 0.0, 0
    names = [f"x{j + 1}" for j in range(features)]
    with open(path, "w", newline="") as handle:
        for start in range(0, rows, CHUNK_ROWS):
            count = min(CHUNK_ROWS, rows - start)
            x = np.round(means + scales * rng.standard_normal((count, features)), DECIMALS)
            x[rng.random(x.shape) < MISSING_SHARE] = np.nan
            cats = {}
            for name, values in CATEGORIES.items():
                drawn = np.asarray(values, dtype=object)[rng.integers(len(values), size=count)]
                drawn[rng.random(count) < MISSING_SHARE] = ""
                cats[name] = drawn
            p = 1.0 / (1.0 + np.exp(-mixed_logit(model, x, cats)))
            y = rng.random(count) < p
            bayes_sum += float(np.maximum(p, 1 - p).sum())
            positives += int(y.sum())
            frame = pd.DataFrame({"id": np.arange(start + 1, start + count + 1),
                                  "source": "web", **dict(zip(names, x.T, strict=True)),
                                  **cats, "label": np.where(y, "Yes", "No")})
            frame.to_csv(handle, index=False, header=start == 0,
                         float_format=f"%.{DECIMALS}f", lineterminator="\n")
    description = {
        "file": path.name,
        "rows": rows,
        "features": [*names, *CATEGORIES],
        "left_out": ["id", "source"],
        "target": "label",
        "positive_label": "Yes",
        "seed": seed,
        "model_seed": model_seed,
        "positive_share": positives / max(rows, 1),
        "bayes_accuracy": bayes_sum / max(rows, 1),
        "model": model,
    }
    description_path(path).write_text(json.dumps(description, indent=2) + "\n")
    return description


def description_path(csv_path: Path | str) -> Path:
    return Path(csv_path).with_suffix(".json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows to write")
    parser.add_argument("--features", type=int, default=20, help="feature columns")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rows")
    parser.add_argument("--model-seed", type=int, default=0,
                        help="seed of the true model (keep it to write a matching test file)")
    parser.add_argument("--mixed", action="store_true",
                        help="a table as real ones come: an id column, a constant, empty "
                             "cells, string categories and a Yes/No label")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.features < 1:
        parser.error("--rows and --features must be at least 1")
    description = write_csv(args.output, args.rows, args.features, args.seed,
                            args.model_seed, mixed=args.mixed)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({args.rows:,} rows, {size / 1e6:.1f} MB; Bayes accuracy "
          f"{description['bayes_accuracy']:.4f}) and {description_path(args.output)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
