# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: SGD classifier (big data)
Description: A logistic regression trained with stochastic gradient descent on a CSV read
in blocks by tf.data, never loaded whole, so the file can be larger than memory.

A member of the linear family (see recipes/linear_family.py): the same
Normalization -> Dense(1, sigmoid) as logistic-regression, trained with
`keras.optimizers.SGD` on minibatches streamed from disk, one pass (or a few) over the file.

How the file is streamed:

- The file is cut into blocks of about a megabyte at line ends (a seek per block, no
  reading). Every tenth block is held out for the test metrics (or give --test-data FILE).
- A tf.data pipeline maps over the blocks, on every core at once: read the block's bytes,
  parse them (pandas' C parser by default, or TensorFlow's tf.io.decode_csv with
  `--parser tensorflow`), check the labels, shuffle the rows, and cut them into
  minibatches. The blocks come in a new random order each pass, so the minibatches mix
  the whole file even when it is sorted.
- The Normalization layer learns each feature's mean and variance from a sample of
  blocks spread over the file (--sample-rows), read the same way.
- Only a few blocks are in memory at any time, so memory stays flat however large the
  file is; the test metrics are accumulated block by block too.
- SGD's learning rate decays along a cosine over the fit (its length estimated from the
  file size), so the last steps settle instead of hopping.

Run it:

    python -m recipes.sgd_classifier                       # a generated file of 200,000 rows
    python -m recipes.sgd_classifier --rows 2000000        # ... of 2 million rows
    python datasets/make_big_csv.py big.csv --rows 10000000
    python -m recipes.sgd_classifier --data big.csv        # 10 million rows, 1.7 GB
    python -m recipes.sgd_classifier --data my.csv --target churned --epochs 3

`--data sample` generates its file (datasets/make_big_csv.py, a known logistic model) into
the run directory and deletes it after the run; metrics.json then reports the data's Bayes
accuracy, the best any classifier can score on it. Your own CSV needs a header row, numeric
columns and a 0/1 target column.

Outputs (in --output, default runs/sgd-classifier-<timestamp>/): model.keras, history.csv,
roc_curve.png, run-options.json and metrics.json (written last), with the training speed
in rows per second and the peak memory of the run. Long runs keep a checkpoint after each
pass: `--resume DIR` continues an interrupted one.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from recipes import common, data, engine
from recipes import linear_family as family

NAME = "sgd-classifier"
SAMPLE_TARGET = "label"
MIN_BLOCK_BYTES = 4 << 10

"""
## Setup
"""


@dataclass
class Config(family.Config):
    learning_rate: float = 0.1      # SGD's, decayed along a cosine to 1% over the fit
    momentum: float = 0.9
    epochs: int = 1                   # passes over the file
    batch_size: int = 1024            # rows per SGD step
    steps_per_execution: int = 64
    test_fraction: float = 0.1        # every 10th block, when there is no --test-data
    sample_rows: int = 100_000        # rows read for the normalisation statistics
    block_bytes: int = 1 << 20        # the unit of reading, parsing and shuffling
    parser: str = "pandas"            # or "tensorflow": see PARSERS
    rows: int = 200_000               # size of the generated sample
    seed: int | None = None


"""
## Prepare the data

A `CsvStream` is a file's column names and the byte ranges of its blocks; nothing is
read until tf.data asks for it.
"""


@dataclass
class Blocks:
    """Byte ranges in one or more files: which file, where each block starts, its length."""

    paths: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.starts)

    def select(self, index) -> Blocks:
        return Blocks(*([values[i] for i in index] for values in
                        (self.paths, self.starts, self.lengths)))

    def nbytes(self) -> int:
        return int(sum(self.lengths))


@dataclass
class CsvStream:
    columns: list[str]
    target: str
    train: Blocks
    test: Blocks
    source: str
    line_bytes: float                 # average bytes per row, from the first block
    crlf: bool = False
    description: dict | None = None   # the true model, for generated data

    @property
    def feature_names(self) -> list[str]:
        return [c for c in self.columns if c != self.target]


def load_data(source: str = "sample", target: str | None = None, *,
              test_data: str | None = None, config: Config | None = None,
              workdir: Path | None = None) -> CsvStream:
    """Finds the file's columns and cuts it into blocks; `sample` first generates the file
    into `workdir` (the run directory)."""
    config = config or Config()
    description = None
    if source == "full":
        raise common.RecipeError(
            "sgd-classifier has no full dataset: its sample is generated, as large as you ask",
            hint="use --data sample --rows N, or --data PATH to your own CSV")
    if source == "sample":
        path = generated_sample(Path(workdir or "."), config.rows, config.seed or 0)
        description = json.loads(path.with_suffix(".json").read_text())
        name, target = f"sample:generated {config.rows:,} rows", target or SAMPLE_TARGET
    else:
        path, name = Path(source), source
    target = target or SAMPLE_TARGET
    columns, header_bytes, crlf = read_header(path, target)
    blocks = cut_blocks(path, header_bytes, config.block_bytes)
    line_bytes = blocks.lengths[0] / max(count_lines(path, blocks.starts[0], blocks.lengths[0]),
                                         1)
    if test_data is not None:
        test_columns, test_header, test_crlf = read_header(Path(test_data), target,
                                                           what="--test-data")
        crlf = crlf or test_crlf
        if test_columns != columns:
            raise common.RecipeError(f"--test-data {test_data} has other columns than {path}",
                                     hint="give a test file with the same header row")
        train, test = blocks, cut_blocks(Path(test_data), test_header, config.block_bytes)
    else:
        every = max(2, round(1 / config.test_fraction)) if config.test_fraction else 0
        held = [i for i in range(len(blocks)) if every and i % every == every - 1]
        if len(blocks) < 2 or not held:
            raise common.RecipeError(
                f"{path} is too small to hold out test rows by blocks ({len(blocks)} of them)",
                hint="give a larger file, or a separate test file with --test-data")
        held_set = set(held)
        train = blocks.select([i for i in range(len(blocks)) if i not in held_set])
        test = blocks.select(held)
    return CsvStream(columns, target, train, test, name, line_bytes, crlf, description)


def generated_sample(workdir: Path, rows: int, seed: int) -> Path:
    path = workdir / "generated-sample.csv"
    if not path.exists():  # a resumed run finds it again
        make_big_csv().write_csv(path, rows, seed=seed)
    return path


def make_big_csv():
    """The generator script shipped in datasets/, loaded by path (datasets/ is data, not a
    package)."""
    script = data.shipped_file("make_big_csv.py")
    spec = importlib.util.spec_from_file_location("keras_recipes_make_big_csv", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_header(path: Path, target: str, what: str = "--data") -> tuple[list[str], int, bool]:
    """The column names, the header's length in bytes, and whether lines end in CRLF."""
    if not path.exists():
        raise common.RecipeError(f"{what} {path}: no such file", hint="check the path")
    if path.is_dir():
        raise common.RecipeError(f"{what} {path} is a directory, not a CSV file",
                                 hint="give the path of a .csv file")
    with open(path, "rb") as handle:
        head = handle.readline(1 << 20)
        first_row = handle.readline(1 << 20)
    if not head.strip():
        raise common.RecipeError(f"{path} is empty",
                                 hint="give a CSV file with a header row and data rows")
    if b"\x00" in head:
        raise common.RecipeError(f"{path} looks like a binary file, not a CSV",
                                 hint="export the data as comma-separated text")
    try:
        columns = next(csv.reader([head.decode("utf-8").rstrip("\r\n")]))
    except UnicodeDecodeError:
        raise common.RecipeError(f"{path} is not UTF-8 text", hint="re-save it as UTF-8") from None
    columns = [c.strip() for c in columns]
    if not first_row.strip():
        raise common.RecipeError(f"{path} has a header but no rows", hint="add data rows")
    if target not in columns:
        shown = ", ".join(columns[:12]) + (" ..." if len(columns) > 12 else "")
        raise common.RecipeError(f"{path} has no column {target!r} to predict",
                                 hint=f"name the 0/1 target with --target; the columns are: "
                                      f"{shown}")
    if len(columns) < 2:
        raise common.RecipeError(f"{path} has no feature columns besides {target!r}",
                                 hint="the CSV needs at least one column to predict from")
    return columns, len(head), head.endswith(b"\r\n")


def cut_blocks(path: Path, start: int, block_bytes: int) -> Blocks:
    """Byte ranges of about `block_bytes` (smaller for a small file, so that it still makes
    about 64 blocks to shuffle and hold out), each ending at the end of a line."""
    size = path.stat().st_size
    block_bytes = min(block_bytes, max(MIN_BLOCK_BYTES, size // 64))
    blocks = Blocks()
    with open(path, "rb") as handle:
        while start < size:
            handle.seek(min(start + block_bytes, size))
            handle.readline()
            end = min(handle.tell(), size)
            blocks.paths.append(str(path))
            blocks.starts.append(start)
            blocks.lengths.append(end - start)
            start = end
    return blocks


def count_lines(path: Path, start: int, length: int) -> int:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(length).count(b"\n")


def to_dataset(stream: CsvStream, blocks: Blocks, *, batch_size: int | None = None,
               shuffle: bool = False, seed: int | None = None, counter=None,
               parser: str = "pandas"):
    """A tf.data pipeline of (features, labels) over the blocks, parsed on every core.

    With `batch_size`, minibatches of that many rows; otherwise one element per block.
    `counter`, a tf.Variable, counts the rows that pass. `parser`: see PARSERS.
    """
    import tensorflow as tf

    features = [stream.columns.index(c) for c in stream.feature_names]
    target = stream.columns.index(stream.target)
    load_block = PARSERS[parser](len(stream.columns), stream.crlf)
    deterministic = seed is not None or not shuffle

    def parse(path, start, length):
        table = load_block(path, start, length)
        x = tf.gather(table, features, axis=1)
        y = table[:, target:target + 1]
        binary = tf.reduce_all((y == 0.0) | (y == 1.0))
        with tf.control_dependencies([tf.debugging.Assert(binary, ["labels must be 0 or 1"])]):
            y = tf.identity(y)
        if shuffle:
            order = tf.random.shuffle(tf.range(tf.shape(y)[0]), seed=seed)
            x, y = tf.gather(x, order), tf.gather(y, order)
        if counter is not None:
            with tf.control_dependencies([counter.assign_add(tf.cast(tf.shape(y)[0], "int64"))]):
                y = tf.identity(y)
        return x, y

    ds = tf.data.Dataset.from_tensor_slices(
        (blocks.paths, np.array(blocks.starts, "int64"), np.array(blocks.lengths, "int64")))
    if shuffle:
        ds = ds.shuffle(len(blocks), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if batch_size:
        ds = ds.rebatch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


def read_block(path, start, length) -> bytes:
    """One block's bytes (for tf.py_function: the arguments arrive as tensors).

    TensorFlow has no op that reads a byte range: FixedLengthRecordDataset can, but it
    reaches an offset by reading everything before it, which makes a pass over a file
    quadratic in its size. A seek costs nothing, and the read lets go of Python's lock.
    """
    with open(path.numpy(), "rb") as handle:
        handle.seek(int(start))
        return handle.read(int(length))


def pandas_parser(n_columns: int, crlf: bool):
    """Reads and parses a block with pandas' C parser, inside the pipeline (tf.py_function).

    The parser lets go of Python's lock while it works, so the pipeline's parallel calls
    parse several blocks at once; per core it is about twice as fast as tf.io.decode_csv
    (benchmarks/linear_family.py measures both).
    """
    import io

    import pandas as pd
    import tensorflow as tf

    def load(path, start, length) -> np.ndarray:
        raw = io.BytesIO(read_block(path, start, length))
        table = pd.read_csv(raw, header=None, dtype=np.float32).to_numpy()
        if table.shape[1] != n_columns or np.isnan(table).any():
            raise ValueError("a row with a missing value or the wrong number of fields")
        return table

    def load_block(path, start, length):
        table = tf.py_function(load, [path, start, length], tf.float32)
        return tf.ensure_shape(table, [None, n_columns])

    return load_block


def tensorflow_parser(n_columns: int, crlf: bool):
    """Parses a block with TensorFlow's own ops: split into lines, then tf.io.decode_csv.

    Only the read is Python; the parsing is graph ops. It costs about twice the CPU time of
    pandas' parser.
    """
    import tensorflow as tf

    def load_block(path, start, length):
        block = tf.ensure_shape(tf.py_function(read_block, [path, start, length], tf.string), [])
        lines = tf.strings.split(block, "\n")
        if crlf:
            lines = tf.strings.strip(lines)
        lines = tf.boolean_mask(lines, tf.strings.length(lines) > 0)
        fields = tf.io.decode_csv(lines, [tf.constant([], tf.float32)] * n_columns)
        return tf.stack(fields, axis=1)

    return load_block


PARSERS = {"pandas": pandas_parser, "tensorflow": tensorflow_parser}


def estimated_steps(stream: CsvStream, config: Config) -> int:
    """SGD steps in the whole fit, from the training bytes and the bytes per row."""
    rows = stream.train.nbytes() / stream.line_bytes
    return max(1, math.ceil(rows / config.batch_size) * config.epochs)


def read_sample(stream: CsvStream, rows: int,
                parser: str = "pandas") -> tuple[np.ndarray, np.ndarray]:
    """About `rows` rows from training blocks spread evenly over the file."""
    per_block = max(stream.train.nbytes() / max(len(stream.train), 1) / stream.line_bytes, 1)
    wanted = min(len(stream.train), max(1, math.ceil(rows / per_block)))
    chosen = np.unique(np.linspace(0, len(stream.train) - 1, wanted).round().astype(int))
    xs, ys = [], []
    with reading(stream):
        for x, y in to_dataset(stream, stream.train.select(chosen), parser=parser):
            xs.append(x.numpy())
            ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


@contextlib.contextmanager
def reading(stream: CsvStream):
    """Turns TensorFlow's parse errors into one line naming the bad row of the file."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        raise find_bad_row(stream, str(error)) from None


def find_bad_row(stream: CsvStream, tf_message: str) -> common.RecipeError:
    """Scans the files with pandas (fast, in chunks) for the first row TensorFlow rejected."""
    import pandas as pd

    for path in dict.fromkeys([*stream.train.paths, *stream.test.paths]):
        line = 1
        try:
            chunks = pd.read_csv(path, chunksize=200_000, dtype=str, keep_default_na=False,
                                 skipinitialspace=True)
            for chunk in chunks:
                for column in chunk.columns:
                    values = chunk[column].str.strip()
                    numbers = pd.to_numeric(values, errors="coerce")
                    bad = numbers.isna()
                    if column == stream.target:
                        bad |= ~numbers.isin([0, 1])
                    if bad.any():
                        row = int(np.flatnonzero(bad.to_numpy())[0])
                        value = values.iloc[row]
                        what = ("is missing" if value == "" else
                                f"{value!r} is not 0 or 1" if column == stream.target
                                and not np.isnan(numbers.iloc[row]) else
                                f"{value!r} is not a number")
                        hint = ("the target column must hold 0 or 1 in every row"
                                if column == stream.target else
                                "every feature must be a number in every row")
                        return common.RecipeError(
                            f"{path}, line {line + row + 1}, column {column!r}: {what}", hint=hint)
                line += len(chunk)
        except pd.errors.ParserError as error:
            reason = " ".join(str(error).split())[:160]
            return common.RecipeError(f"{path}: {reason}",
                                      hint="every row needs one value per column")
    reason = " ".join(tf_message.split())[:160]
    return common.RecipeError(f"could not parse the CSV: {reason}",
                              hint="check the file for rows with missing or non-numeric values")


"""
## Build the model

logistic-regression's model, trained by plain SGD with momentum on minibatches. The
Normalization layer adapts on the streamed sample.
"""


def build_model(x_sample: np.ndarray, y_sample: np.ndarray, config: Config | None = None,
                total_steps: int | None = None):
    """`total_steps`, the steps of the whole fit (estimated from the file size), lets the
    learning rate decay along a cosine to 1% by the end, so the last steps settle."""
    import keras

    config = config or Config()
    rate = config.learning_rate
    if total_steps:
        rate = keras.optimizers.schedules.CosineDecay(rate, total_steps, alpha=0.01)
    normalize = keras.layers.Normalization(name="standardize")
    normalize.adapt(x_sample)
    model = keras.Sequential([
        keras.Input(shape=(int(normalize.mean.shape[-1]),)),
        normalize,
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros",
                           bias_initializer=keras.initializers.Constant(
                               family.starting_bias(y_sample, "sigmoid")), name="linear"),
    ], name="sgd_classifier")
    model.compile(optimizer=keras.optimizers.SGD(rate, momentum=config.momentum),
                  loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
                  steps_per_execution=config.steps_per_execution)
    return model


"""
## Train

`engine.fit` keeps a checkpoint after every pass, so an interrupted run can be resumed.
"""


def train(model, stream: CsvStream, config: Config, *, run: common.RunDir,
          verbose: int = 1) -> tuple[dict, int]:
    """Passes over the training blocks; returns the history and the rows seen."""
    import tensorflow as tf

    counter = tf.Variable(0, dtype="int64", trainable=False)
    ds = to_dataset(stream, stream.train, batch_size=config.batch_size, shuffle=True,
                    seed=config.seed, counter=counter, parser=config.parser)
    with reading(stream), warnings.catch_warnings():
        # A stream's length is unknown until its end, where Keras warns that it "ran out".
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = engine.fit(model, ds, run=run, epochs=config.epochs, verbose=verbose,
                             shuffle=False)  # the pipeline shuffles
    return history, int(counter.numpy())


"""
## Evaluate

Block by block over the test blocks: the confusion counts, the log loss and a histogram of
the predicted probabilities of each class (for the ROC curve), so the test set need not
fit in memory either.
"""

BINS = 2000


def evaluate(model, stream: CsvStream, config: Config | None = None) -> tuple[dict, tuple]:
    """The test metrics, and the ROC curve (false and true positive rates)."""
    config = config or Config()
    threshold = 0.5
    counts = np.zeros(4, dtype=np.int64)  # tn, fp, fn, tp
    histograms = np.zeros((2, BINS), dtype=np.int64)
    loss = 0.0
    with reading(stream):
        for x, y in to_dataset(stream, stream.test, parser=config.parser):
            probability = np.asarray(model.predict_on_batch(x)).ravel()
            label = y.numpy().ravel().astype(int)
            predicted = (probability >= threshold).astype(int)
            counts += np.bincount(label * 2 + predicted, minlength=4)
            bins = np.minimum((probability * BINS).astype(int), BINS - 1)
            histograms += np.stack([np.bincount(bins[label == c], minlength=BINS)
                                    for c in (0, 1)])
            loss += family.log_loss_sum(label, probability)
    # Sweeping the threshold down from 1 to 0, bin by bin.
    negatives, positives = histograms[0][::-1].cumsum(), histograms[1][::-1].cumsum()
    fpr = np.r_[0.0, negatives / max(negatives[-1], 1)]
    tpr = np.r_[0.0, positives / max(positives[-1], 1)]
    metrics = family.binary_summary(*(int(c) for c in counts), fpr=fpr, tpr=tpr,
                                    log_loss_sum=loss, threshold=threshold)
    return metrics, (fpr, tpr)


"""
## Command line
"""


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = common.make_parser(
        NAME, "Train a logistic regression with SGD on a CSV streamed from disk in blocks "
              "(never loaded whole).",
        data_help="'sample' (a generated file with a known model, see --rows) or a PATH to "
                  "your CSV (header row, numeric columns, a 0/1 target)",
        epochs=defaults.epochs, batch_size=defaults.batch_size)
    family.set_help(parser, "--epochs", "passes over the file")
    parser.add_argument("--target", default=SAMPLE_TARGET, help="the 0/1 column to predict")
    parser.add_argument("--test-data", default=None, metavar="PATH",
                        help="a CSV with the same columns for the test metrics (default: "
                             "every tenth block of --data is held out)")
    parser.add_argument("--rows", type=common.positive_int, default=defaults.rows,
                        help="rows of the generated file, for --data sample")
    parser.add_argument("--learning-rate", type=common.positive_float,
                        default=defaults.learning_rate, help="SGD's learning rate")
    parser.add_argument("--momentum", type=family.fraction_below_one, default=defaults.momentum,
                        help="SGD's momentum")
    parser.add_argument("--sample-rows", type=common.positive_int, default=defaults.sample_rows,
                        help="rows read, from blocks spread over the file, for the "
                             "normalisation statistics")
    parser.add_argument("--block-kib", type=common.positive_int,
                        default=defaults.block_bytes >> 10,
                        help="size of the blocks read, parsed and shuffled, in KiB")
    parser.add_argument("--parser", choices=list(PARSERS), default=defaults.parser,
                        help="what parses the CSV text inside the tf.data pipeline: pandas' C "
                             "parser (about twice as fast) or TensorFlow's tf.io.decode_csv "
                             "(graph ops only)")
    engine.add_options(parser, jit_on_cpu=False)
    return engine.parse(parser, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    config = family.config_from(Config, args)
    config.block_bytes = args.block_kib << 10
    # A file of yours is checked before TensorFlow starts; the sample is generated in the run.
    stream = None if args.data == "sample" else load_data(
        args.data, args.target, test_data=args.test_data, config=config)
    setup = engine.setup(args)  # strategy, seed, precision, XLA
    config.batch_size = setup.global_batch(args.batch_size)
    config.steps_per_execution = setup.steps_per_execution(config.steps_per_execution)

    with common.open_run_dir(setup.output_dir(args.output), NAME,
                             resume=args.resume is not None) as run:
        engine.save_run_options(run, args._argv)
        stream = stream or load_data("sample", args.target, test_data=args.test_data,
                                     config=config, workdir=run.path)
        x_sample, y_sample = read_sample(stream, config.sample_rows, config.parser)
        with setup.scope():
            model = build_model(x_sample, y_sample, config, total_steps=estimated_steps(
                stream, config))
        started, cpu = time.perf_counter(), time.process_time()
        history, rows = train(model, stream, config, run=run, verbose=0 if args.quiet else 1)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        test, roc = evaluate(model, stream, config)

        metrics = {
            "recipe": NAME,
            "data": stream.source,
            "target": stream.target,
            "features": stream.feature_names,
            "train_bytes": stream.train.nbytes(),
            "train_rows_seen": rows,
            "sample_rows": int(len(y_sample)),
            "config": asdict(config),
            "engine": setup.describe(),
            "fit_seconds": round(seconds, 3),
            "fit_cpu_seconds": round(cpu, 3),  # all cores together
            "rows_per_second": round(rows / seconds) if seconds > 0 else None,
            "peak_memory_mb": peak_memory_mb(),
            "coefficients": family.coefficients(model, stream.feature_names),
            "test": test,
        }
        if stream.description is not None:
            metrics["bayes_accuracy"] = stream.description["bayes_accuracy"]
            metrics["true_model"] = stream.description["model"]
            for generated in (run.file("generated-sample.csv"), run.file("generated-sample.json")):
                generated.unlink(missing_ok=True)
        run.save_model(model)
        run.write_history(history)
        run.save_figure(family.plot_roc(*roc, f"{NAME}: {stream.source} (test blocks)"),
                        "roc_curve.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    setup.cleanup(run)

    shown = {**test, "rows_per_second": metrics["rows_per_second"],
             "peak_memory_mb": metrics["peak_memory_mb"]}
    if "bayes_accuracy" in metrics:
        shown["bayes_accuracy"] = metrics["bayes_accuracy"]
    common.print_metrics(f"{NAME} test metrics ({stream.source})", shown, as_json=args.json,
                         full=metrics)
    if not args.json:
        print(f"wrote {run.path}/ (model.keras, history.csv, roc_curve.png, metrics.json)",
              file=sys.stderr)
    return 0


def peak_memory_mb() -> float | None:
    """The most resident memory this process has held (Linux counts in KiB, macOS in bytes)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20) if sys.platform == "darwin" else peak / 1024, 1)


def main(argv: Sequence[str] | None = None) -> int:
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
