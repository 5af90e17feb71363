# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "pyarrow",
#                 "matplotlib"]
# ///
"""
Title: SGD classifier (big data)
Description: A logistic regression trained with stochastic gradient descent on a CSV read
in blocks by tf.data, never loaded whole, so the file can be larger than memory.

A member of the linear family (linear_family.py, beside this file): the same
Normalization -> Dense(1, sigmoid) as logistic-regression, trained with
`keras.optimizers.SGD` on minibatches streamed from disk, one pass (or a few) over the file.

How the file is streamed:

- The file is cut into blocks (`--block-kib`) at line ends: a seek per block, no reading.
  Every tenth block is held out for the test metrics (or give --test-data FILE).
- A tf.data pipeline maps over the blocks, several at once: read the block's bytes,
  parse them (Apache Arrow's CSV reader by default, on every core; pandas' C parser with
  `--parser pandas`, TensorFlow's tf.io.decode_csv with `--parser tensorflow`), check
  the labels, shuffle the rows, and cut them into minibatches. The blocks come in a new
  random order each pass, so the minibatches mix the whole file even when it is sorted.
- The columns' roles, the labels and the preprocessing (each number's median, mean and
  variance; each category's vocabulary) come from a sample of blocks spread over the file
  (--sample-rows).
- Only a few blocks are in memory at any time, so memory stays flat however large the
  file is; the test metrics are accumulated block by block too.
- SGD's learning rate decays along a cosine over the fit (its length estimated from the
  file size), so the last steps settle instead of hopping.

Run it through the runner (checkpoints, --resume, several machines):

    python -m recipes.runner sgd-classifier                    # a generated file, 200,000 rows
    python -m recipes.runner sgd-classifier --rows 2000000     # ... of 2 million rows
    python datasets/make_big_csv.py big.csv --rows 10000000
    python -m recipes.runner sgd-classifier --data big.csv     # 10 million rows
    python -m recipes.runner sgd-classifier --data my.csv --target churned --epochs 3
    python -m recipes.runner sgd-classifier --data gs://bucket/big.csv --target churned
    TF_CONFIG=... python -m recipes.runner sgd-classifier --strategy multi-worker --data gs://...
                                         # on every machine: see "Train" below, and README

or alone, without the rest of the project (model.keras, columns.json, roc_curve.png and
metrics.json into --output):

    python -m recipes.sgd_classifier --rows 20000

`--data sample` generates its file (datasets/make_big_csv.py, a known logistic model) once
into Keras' cache, $KERAS_HOME/datasets/sgd-classifier/ (~/.keras/ by default), named by
its rows and seed, where a resumed or repeated run finds it again; delete that folder to
reclaim the space. metrics.json then reports the data's Bayes accuracy, the best any
classifier can score on it.

Your own CSV is taken as it is, as the in-memory recipes take theirs (columns.py decides,
on the sample, what each column is): numbers, string or boolean categories, dates and
missing values; identifiers, constants and free text are left out (the run says which;
--features and --drop choose). The target holds two labels (0/1, Yes/No, ...): the positive
class is 1, true or yes, else the rarer one (--positive-label chooses), and the outputs keep
the labels' names. The preprocessing (medians, means and variances, vocabularies with a
slot for values first seen later) is learnt from the sample and saved inside the model, so
`advisor predict RUN --data NEW.csv` predicts from raw rows.

The run keeps model.keras, columns.json, history.csv, training_curves.png, roc_curve.png,
run-options.json and metrics.json (written last), with the training speed in rows per
second and the peak memory of the run. Measured speeds against scikit-learn, and the
figures behind the defaults: benchmarks/results.md (its table, and "Measured by hand",
sgd-classifier).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from recipes import linear_family as family  # isort: skip (first: it imports Keras quietly)

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from recipes import columns

"""
## Setup
"""

NAME = "sgd-classifier"
SAMPLE_TARGET = "label"
MIN_BLOCK_BYTES = 4 << 10
RecipeError = family.RecipeError
DATA_HELP = ("'sample' (a generated file with a known model, see --rows) or a PATH to your "
             "CSV as it is (a header row; numbers, categories, dates and missing values are "
             "taken), local or gs://, hdfs://, s3:// (through tf.io.gfile)")


@dataclass
class Config(family.TableConfig):
    learning_rate: float = field(default=0.1, metadata={
        "help": "SGD's learning rate, decayed along a cosine to 1% of it over the fit"})
    momentum: float = field(default=0.9, metadata={
        "help": "SGD's momentum", "type": family.fraction_below_one})
    epochs: int = field(default=1, metadata={"help": "passes over the file"})
    batch_size: int | None = field(default=None, metadata={
        "help": "rows per SGD step, on each worker (default: 1024, doubled up to 4096 while "
                "a pass over the file still takes at least 200 steps)"})
    steps_per_execution: int = 64
    test_fraction: float = field(default=0.1, metadata={
        "help": "share of the blocks held out for the test metrics, without --test-data",
        "type": family.open_fraction})
    target: str = field(default=SAMPLE_TARGET, metadata={
        "help": "the column to predict (two labels: 0/1, yes/no, ...)"})
    positive_label: str | None = field(default=None, metadata={
        "help": "the class to detect (default: 1, true or yes in any spelling, else the "
                "rarer class)", "metavar": "LABEL"})
    test_data: str | None = field(default=None, metadata={
        "help": "a CSV with the same columns for the test metrics (default: every tenth "
                "block of --data is held out)", "metavar": "PATH"})
    rows: int = field(default=200_000, metadata={
        "help": "rows of the generated file, for --data sample"})
    sample_rows: int = field(default=100_000, metadata={
        "help": "rows read, from blocks spread over the file, to decide the columns and "
                "learn the preprocessing (statistics, vocabularies)"})
    block_kib: int = field(default=4096, metadata={
        "help": "size of the blocks read, parsed and shuffled, in KiB"})
    parser: str = field(default="arrow", metadata={
        "help": "what parses the CSV text inside the tf.data pipeline: Apache Arrow's CSV "
                "reader (pyarrow; parses blocks in parallel, falls back to pandas for dates "
                "and blocks it rejects), pandas' C parser, or TensorFlow's tf.io.decode_csv "
                "(graph ops only, the slowest)", "choices": ("arrow", "pandas", "tensorflow")})


"""
## Prepare the data

A `CsvStream` is a file's columns, what each of them is, and the byte ranges of its
blocks; only a sample is read before tf.data asks for the rest.

The file is taken as it is, the way the in-memory recipes take theirs: a sample of blocks
spread over the file is read with pandas, `columns` decides each column's role on it
(numbers, categories, dates; identifiers, constants and free text are left out) and the
target's two labels, and the model's preprocessing is adapted on it (see
linear_family.py). Every block is then parsed to the same typed columns inside the
pipeline: numbers as floats (missing: NaN, which the model fills in), categories as
strings (missing: the empty string; a value the sample never showed goes to the lookup's
out-of-vocabulary slot). A row whose target is missing is skipped.
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
    config: Config | None = None      # the options it was read with (the parser)
    sample: object = None             # pandas.DataFrame: rows of blocks spread over the file
    y_sample: np.ndarray | None = None  # their targets, 1 for the positive label
    roles: dict[str, str] = field(default_factory=dict)  # feature column -> role
    labels: list[str] = field(default_factory=lambda: ["0", "1"])  # negative, positive
    left_out: dict[str, str] = field(default_factory=dict)  # column -> why
    leaks: dict[str, str] = field(default_factory=dict)
    schema: dict = field(default_factory=dict)  # the model's inputs (linear_family.make_schema)
    dropped_rows = 0  # a stream skips the rows without a target as they come, uncounted
    notes = property(family.column_notes)  # what the run left out and why, as for a Table
    # Set by build_model, train and evaluate, for the report:
    model: object = None              # the model saved; build_model returns its packed twin
    batch_size: int = 0               # rows per SGD step, all workers together
    worker: tuple[int, int] = (0, 1)  # this machine's index among the workers, their number
    read: dict = field(default_factory=dict)  # rows and bytes this worker trained on, time
    roc: tuple = ()                   # false and true positive rates on the test blocks

    @property
    def feature_names(self) -> list[str]:
        return list(self.roles)


def load_data(source: str = "sample", config: Config | None = None) -> CsvStream:
    """Finds the file's columns, cuts it into blocks, and decides on a sample of them what
    each column is; `sample` is generated first (see generated_sample)."""
    config = config or Config()
    description, target = None, config.target or SAMPLE_TARGET
    if source == "full":
        raise RecipeError(
            "sgd-classifier has no full dataset: its sample is generated, as large as you ask",
            hint="use --data sample --rows N, or --data PATH to your own CSV")
    if source == "sample":
        path = str(generated_sample(config.rows, config.seed or 0))
        description = json.loads(Path(path).with_suffix(".json").read_text())
        name = f"sample:generated {config.rows:,} rows"
    else:
        path = name = str(source)
    columns, header_bytes, crlf = read_header(path, target)
    block_bytes = config.block_kib << 10
    blocks = cut_blocks(path, header_bytes, block_bytes)
    line_bytes = blocks.lengths[0] / max(count_lines(path, blocks.starts[0], blocks.lengths[0]),
                                         1)
    if config.test_data is not None:
        test_columns, test_header, test_crlf = read_header(config.test_data, target,
                                                           what="--test-data")
        crlf = crlf or test_crlf
        if test_columns != columns:
            raise RecipeError(f"--test-data {config.test_data} has other columns than {path}",
                              hint="give a test file with the same header row")
        train, test = blocks, cut_blocks(config.test_data, test_header, block_bytes)
    else:
        every = max(2, round(1 / config.test_fraction))
        held = {i for i in range(len(blocks)) if i % every == every - 1}
        if len(blocks) < 2 or not held:
            raise RecipeError(
                f"{path} is too small to hold out test rows by blocks ({len(blocks)} of them)",
                hint="give a larger file, or a separate test file with --test-data")
        train = blocks.select([i for i in range(len(blocks)) if i not in held])
        test = blocks.select(sorted(held))
    stream = CsvStream(columns, target, train, test, name, line_bytes, crlf, description,
                       config)
    decided = family.decide(read_sample(stream, config.sample_rows), target, path, "binary",
                            features=family.column_list(config.features),
                            drop=family.column_list(config.drop),
                            positive_label=config.positive_label, rows="sampled row")
    stream.y_sample, stream.labels = decided.y, decided.labels
    stream.roles, stream.left_out, stream.leaks = decided.roles, decided.left_out, decided.leaks
    stream.sample = decided.frame[decided.used]
    stream.schema = family.make_schema(stream.sample, stream.roles)
    return stream


def generated_sample(rows: int, seed: int) -> Path:
    """The generated sample's file, written once into Keras' cache (where
    keras.utils.get_file keeps downloads), named by its rows and seed; written in a
    scratch folder first, so that an interrupted run never leaves half a file."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    if not os.access(home if home.exists() else home.parent, os.W_OK):
        home = Path(tempfile.gettempdir()) / ".keras"  # as Keras falls back
    folder = home / "datasets" / NAME
    path = folder / f"generated-{rows}-rows-seed-{seed}.csv"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            make_big_csv().write_csv(Path(scratch) / path.name, rows, seed=seed)
            for done in (path.with_suffix(".json"), path):  # the file last: it says "ready"
                os.replace(Path(scratch) / done.name, done)
    return path


def make_big_csv():
    """The generator script datasets/make_big_csv.py (beside a copy of this file:
    datasets/make_big_csv.py there), loaded by path: datasets/ is data, not a package."""
    script = family.shipped_file("make_big_csv.py")
    spec = importlib.util.spec_from_file_location("keras_recipes_make_big_csv", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


"""
Files are opened through `open_file`: a local path with Python's own `open`, anything with
a scheme (`gs://`, `hdfs://`, `s3://` with tensorflow-io's plugin, `ram://`) through
TensorFlow's `tf.io.gfile`, which reaches object storage with ranged reads, so a block
costs a seek and its own bytes wherever the file lives.
"""


def is_remote(path: str) -> bool:
    return "://" in str(path)


def open_file(path: str):
    if is_remote(path):
        return tf.io.gfile.GFile(str(path), "rb")
    return open(path, "rb")


def file_size(path: str) -> int:
    if is_remote(path):
        return int(tf.io.gfile.stat(str(path)).length)
    return Path(path).stat().st_size


def check_file(path: str, what: str) -> None:
    if is_remote(path):
        exists, folder = tf.io.gfile.exists(path), tf.io.gfile.isdir(path)
    else:
        exists, folder = Path(path).exists(), Path(path).is_dir()
    if not exists:
        raise RecipeError(f"{what} {path}: no such file", hint="check the path")
    if folder:
        raise RecipeError(f"{what} {path} is a directory, not a CSV file",
                          hint="give the path of a .csv file")


def read_header(path: str, target: str, what: str = "--data") -> tuple[list[str], int, bool]:
    """The column names, the header's length in bytes, and whether lines end in CRLF."""
    check_file(path, what)
    with open_file(path) as handle:
        start = handle.read(2 << 20)
    head, newline, rest = start.partition(b"\n")
    head, first_row = head + newline, rest.partition(b"\n")[0]
    if not head.strip():
        raise RecipeError(f"{path} is empty",
                          hint="give a CSV file with a header row and data rows")
    if b"\x00" in head:
        raise RecipeError(f"{path} looks like a binary file, not a CSV",
                          hint="export the data as comma-separated text")
    try:
        columns = next(csv.reader([head.decode("utf-8").rstrip("\r\n")]))
    except UnicodeDecodeError:
        raise RecipeError(f"{path} is not UTF-8 text", hint="re-save it as UTF-8") from None
    columns = [c.strip().lstrip("\ufeff") for c in columns]
    if not first_row.strip():
        raise RecipeError(f"{path} has a header but no rows", hint="add data rows")
    if target not in columns:
        shown = ", ".join(columns[:12]) + (" ..." if len(columns) > 12 else "")
        raise RecipeError(f"{path} has no column {target!r} to predict",
                          hint=f"name the target (two labels) with --target; the "
                                f"columns are: {shown}")
    if len(columns) < 2:
        raise RecipeError(f"{path} has no feature columns besides {target!r}",
                          hint="the CSV needs at least one column to predict from")
    return columns, len(head), head.endswith(b"\r\n")


def cut_blocks(path: str, start: int, block_bytes: int) -> Blocks:
    """Byte ranges of about `block_bytes` (smaller for a small file, so that it still makes
    about 64 blocks to shuffle and hold out), each ending at the end of a line."""
    size = file_size(path)
    block_bytes = min(block_bytes, max(MIN_BLOCK_BYTES, size // 64))
    blocks = Blocks()
    with open_file(path) as handle:
        while start < size:
            handle.seek(min(start + block_bytes, size))
            handle.readline()
            end = min(handle.tell(), size)
            blocks.paths.append(str(path))
            blocks.starts.append(start)
            blocks.lengths.append(end - start)
            start = end
    return blocks


def count_lines(path: str, start: int, length: int) -> int:
    with open_file(path) as handle:
        handle.seek(start)
        return handle.read(length).count(b"\n")


def read_sample(stream: CsvStream, rows: int):
    """About `rows` rows, as pandas reads a whole table, from training blocks spread evenly
    over the file."""
    per_block = max(stream.train.nbytes() / max(len(stream.train), 1) / stream.line_bytes, 1)
    wanted = min(len(stream.train), max(1, math.ceil(rows / per_block)))
    chosen = np.unique(np.linspace(0, len(stream.train) - 1, wanted).round().astype(int))
    blocks = stream.train.select(chosen)
    text = b"".join(read_bytes(*block) for block in zip(blocks.paths, blocks.starts,
                                                        blocks.lengths, strict=True))
    try:
        frame = pd.read_csv(io.BytesIO(text), header=None, names=stream.columns,
                            encoding="utf-8", index_col=False)
    except UnicodeDecodeError:
        raise RecipeError(f"{blocks.paths[0]} is not UTF-8 text",
                          hint="re-save it as UTF-8") from None
    except (pd.errors.ParserError, ValueError) as error:  # named by its line in the file
        raise find_bad_row(stream, str(error), labels=False) from None
    return frame


def read_bytes(path: str, start: int, length: int) -> bytes:
    with open_file(path) as handle:
        handle.seek(start)
        return handle.read(length)


def to_dataset(stream: CsvStream, blocks: Blocks, *, batch_size: int | None = None,
               seed: int | None = None, epoch=None, counter=None, bytes_counter=None,
               parser: str = "arrow"):
    """A tf.data pipeline of ((numbers, strings), labels) over the blocks, parsed on every
    core: the packed inputs `packed_model` takes (see Layout for their columns).

    With `epoch`, a variable holding the epoch's number, the blocks and the rows within
    each block are shuffled in an order drawn from `seed`, that number and the block alone,
    so a resumed run reads what an unbroken one would have. With `batch_size`, minibatches
    of that many rows; otherwise one element per block. `counter` and `bytes_counter`,
    tf.Variables, count the rows that pass and the bytes read. `parser`: see PARSERS.
    """
    layout = Layout.of(stream)
    load_block = PARSERS[parser](stream, layout)
    shuffle = epoch is not None
    deterministic = seed is not None or not shuffle  # unseeded: blocks as they are parsed
    seed = tf.constant(np.random.randint(2**31) if seed is None else seed, tf.int64)
    paths = tf.constant(blocks.paths)
    starts, lengths = (tf.constant(np.array(v, "int64")) for v in (blocks.starts, blocks.lengths))

    # No Python control flow on tensors here: AutoGraph's conversion, tf.data's default,
    # would only cost its time before the first block is read.
    @tf.autograph.experimental.do_not_convert
    def parse(block, pass_number):
        numbers, strings, y = load_block(paths[block], starts[block], lengths[block])
        x = (numbers, strings)
        if shuffle:
            key = tf.stack([seed, pass_number * len(blocks) + block])
            order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(y)[0]), key)
            x, y = tf.nest.map_structure(lambda t: tf.gather(t, order), (x, y))
        counts = [] if counter is None else [counter.assign_add(tf.cast(tf.shape(y)[0],
                                                                         "int64"))]
        counts += [] if bytes_counter is None else [bytes_counter.assign_add(lengths[block])]
        with tf.control_dependencies(counts):
            y = tf.identity(y)
        return x, y

    def in_order(_):  # read as each pass begins, when `epoch` holds its number
        number = tf.cast(epoch, tf.int64) if shuffle else tf.constant(0, tf.int64)
        order = tf.range(len(blocks), dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, tf.stack([seed, -1 - number]))
        return tf.data.Dataset.from_tensor_slices((order, tf.fill([len(blocks)], number)))

    ds = tf.data.Dataset.range(1).flat_map(in_order)
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if batch_size:
        ds = ds.rebatch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class Layout:
    """Where each model input comes from in a row of the file."""

    n_columns: int
    number_inputs: list[str]     # float inputs: numbers, then date parts
    number_columns: list[int]    # ... and the file column of each
    date_parts: list[str | None]  # None for a number, else which part of the date
    string_inputs: list[str]     # category inputs
    string_columns: list[int]
    target: int
    labels: list[str]            # negative, positive

    @classmethod
    def of(cls, stream: CsvStream) -> Layout:
        index = {c: i for i, c in enumerate(stream.columns)}
        layout = cls(len(stream.columns), [], [], [], [], [], index[stream.target],
                     list(stream.labels))
        for feature in stream.schema["features"]:
            column = index[feature["column"]]
            if feature["role"] == "category":
                layout.string_inputs.append(feature["inputs"][0])
                layout.string_columns.append(column)
                continue
            parts = feature.get("parts", [None])
            for name, part in zip(feature["inputs"], parts, strict=True):
                layout.number_inputs.append(name)
                layout.number_columns.append(column)
                layout.date_parts.append(part)
        return layout

    @property
    def numeric_labels(self) -> bool:
        return all(is_number(label) for label in self.labels)

    @property
    def all_numbers(self) -> bool:
        """Every column read is a plain number: the whole block parses as one float array."""
        return not self.string_inputs and not any(self.date_parts) and self.numeric_labels


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_block(path, start, length) -> bytes:
    """One block's bytes (for tf.numpy_function: the arguments arrive as NumPy values).

    TensorFlow has no op that reads a byte range: FixedLengthRecordDataset can, but it
    reaches an offset by reading everything before it, which makes a pass over a file
    quadratic in its size. A seek costs nothing, and the read lets go of Python's lock.
    """
    return read_bytes(bytes(path).decode(), int(start), int(length))


class BadBlock(ValueError):
    """A block the pipeline cannot use; `find_bad_row` then names the row."""


def pandas_parser(stream: CsvStream, layout: Layout):
    """Reads and parses a block with pandas' C parser, inside the pipeline.

    A file of numbers only is parsed as one float32 array, the fastest way pandas has.
    Categories are read as pandas categoricals (each distinct text once, as written;
    faster to parse than Python strings) and leave as fixed-width bytes, looked up by
    their codes, which TensorFlow copies in one go (Python strings it converts one by one,
    slower than the parse itself); packed_model strips them, as
    columns.categories does. pandas' parser holds Python's lock for most of its work, so
    the pipeline's parallel calls parse about one block at a time.
    """
    return in_pipeline(pandas_loader(layout), layout)


def arrow_parser(stream: CsvStream, layout: Layout):
    """Reads and parses a block with Apache Arrow's CSV reader (pyarrow), the default.

    Arrow parses without Python's lock, so the pipeline's parallel calls parse blocks on
    every core while the training step runs, and it needs less CPU per row than pandas
    (benchmarks/results.md). It reads only the columns the model uses, numbers straight
    to float32 and categories dictionary-encoded (each distinct text once, as for pandas).
    It is strict where pandas is lenient (a number with spaces around it, a row with too
    few fields): a block it rejects is parsed again by pandas_parser's code, which takes
    what pandas takes and names the bad row of the file when there is one. Files with date
    columns, or without pyarrow installed, are parsed by pandas.
    """
    pandas_load = pandas_loader(layout)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:  # a copy of the recipe without pyarrow installed still runs
        return in_pipeline(pandas_load, layout)
    if any(layout.date_parts):
        return in_pipeline(pandas_load, layout)
    numeric_target = layout.numeric_labels
    names = [str(i) for i in range(layout.n_columns)]
    category = pa.dictionary(pa.int32(), pa.string())
    types = {str(i): pa.float32() for i in layout.number_columns}
    types.update({str(i): category for i in layout.string_columns})
    types[str(layout.target)] = pa.float32() if numeric_target else category
    convert = pacsv.ConvertOptions(
        column_types=types, include_columns=list(types), null_values=NA_VALUES,
        strings_can_be_null=True, quoted_strings_can_be_null=True)
    labels = [float(v) for v in layout.labels] if numeric_target else layout.labels

    def column(table, i: int, lookup=None) -> np.ndarray:
        """Column `i` as an array: numbers as float32 (missing: NaN); categories through
        `lookup`, which maps a chunk's distinct texts to an array with one more entry at
        the end, for a missing cell."""
        chunks = table.column(str(i)).chunks
        if lookup is None:
            parts = [c.to_numpy(zero_copy_only=False) for c in chunks]
        else:
            parts = []
            for c in chunks:
                values = lookup(c.dictionary.to_pylist())
                parts.append(values[pc.fill_null(c.indices, len(values) - 1).to_numpy()])
        return np.concatenate(parts) if parts else np.empty(0, np.float32)

    def label_of(texts: list) -> np.ndarray:
        """0 or 1 for a label, -1 for a missing one, -2 for an unknown one."""
        return np.array([labels.index(t) if t in labels else
                         labels.index(t.strip()) if t.strip() in labels else
                         -2 if t.strip() else -1 for t in texts] + [-1])

    def utf8(texts: list) -> np.ndarray:
        return np.array([t.encode() for t in texts] + [b""], "S")

    def load(raw: bytes):
        try:
            table = pacsv.read_csv(pa.py_buffer(raw), read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False,  # the pipeline parses blocks in parallel
                block_size=len(raw) + 1), convert_options=convert)  # one chunk
        except pa.ArrowInvalid:
            return pandas_load(raw)
        if numeric_target:
            y = column(table, layout.target)
            present = ~np.isnan(y)
            positive = y == labels[1]
            known_labels = np.isin(y[present], labels).all()
        else:
            y = column(table, layout.target, label_of)
            present = y != -1
            positive = y == 1
            known_labels = (y != -2).all()
        if not known_labels:
            raise BadBlock("a label the sample did not show")
        numbers = np.empty((len(y), len(layout.number_columns)), np.float32)
        for k, i in enumerate(layout.number_columns):
            numbers[:, k] = column(table, i)
        strings = np.empty((len(y), 0), "S1")
        if layout.string_columns:
            strings = np.column_stack([column(table, i, utf8) for i in layout.string_columns])
        positive = positive.astype(np.float32)[:, None]
        if not present.all():  # rows without a target are skipped
            numbers, strings, positive = numbers[present], strings[present], positive[present]
        return numbers, strings, positive

    return in_pipeline(load, layout)


# pandas' default missing-value markers, so that both parsers read the same cells as empty.
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
             "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def in_pipeline(load, layout: Layout):
    """`load`, from a block's bytes to its (numbers, strings, labels) arrays, as a step of
    the tf.data pipeline (tf.numpy_function: the block's path and range arrive as NumPy
    values; lighter than tf.py_function, which wraps them in eager tensors)."""
    def load_range(path, start, length):
        try:
            return load(read_block(path, start, length))
        except (ValueError, pd.errors.ParserError) as error:
            if isinstance(error, BadBlock):
                raise
            raise BadBlock(str(error)) from None

    def load_block(path, start, length):
        numbers, strings, y = tf.numpy_function(load_range, [path, start, length],
                                                [tf.float32, tf.string, tf.float32])
        return (tf.ensure_shape(numbers, [None, len(layout.number_inputs)]),
                tf.ensure_shape(strings, [None, len(layout.string_inputs)]),
                tf.ensure_shape(y, [None, 1]))

    return load_block


def pandas_loader(layout: Layout):
    """A block's bytes to its (numbers, strings, labels) arrays, with pandas (see
    pandas_parser)."""
    numeric_target = layout.numeric_labels
    labels = [float(v) for v in layout.labels] if numeric_target else layout.labels
    typed = {i: np.float32 for i, part in zip(layout.number_columns, layout.date_parts,
                                              strict=True) if part is None}
    typed.update({i: "category" for i in layout.string_columns})  # each value's text once
    typed[layout.target] = np.float32 if numeric_target else "category"
    loose = {i: (str if kind is np.float32 and i != layout.target else kind)
             for i, kind in typed.items()}

    def table_of(raw: bytes):
        if layout.all_numbers:
            return pd.read_csv(io.BytesIO(raw), header=None, dtype=np.float32, index_col=False)
        try:
            return pd.read_csv(io.BytesIO(raw), header=None, dtype=typed, index_col=False)
        except ValueError:  # text in a number column: read as missing, as the model would
            return pd.read_csv(io.BytesIO(raw), header=None, dtype=loose, index_col=False)

    def load_numbers(raw: bytes):
        """The fast path: one float32 array, columns picked by index."""
        table = table_of(raw).to_numpy()
        if table.shape[1] != layout.n_columns:
            raise BadBlock("a row with the wrong number of fields")
        y = table[:, layout.target]
        present = ~np.isnan(y)
        if not present.all():
            table, y = table[present], y[present]
        if not np.isin(y, labels).all():
            raise BadBlock("a label the sample did not show")
        return (table[:, layout.number_columns], np.empty((len(y), 0), "S1"),
                (y == labels[1]).astype(np.float32)[:, None])

    def load(raw: bytes):
        if layout.all_numbers:
            return load_numbers(raw)
        table = table_of(raw)
        if table.shape[1] != layout.n_columns:
            raise BadBlock("a row with the wrong number of fields")
        y = table[layout.target]
        present = y.notna()
        if not y[present].isin(labels).all():
            if not numeric_target:
                y = y.str.strip()
            if not y[present].isin(labels).all():
                raise BadBlock("a label the sample did not show")
        if not present.all():  # rows without a target are skipped
            table, y = table.loc[present], y[present]
        numbers = np.empty((len(table), len(layout.number_inputs)), np.float32)
        for k, (i, part) in enumerate(zip(layout.number_columns, layout.date_parts,
                                          strict=True)):
            series = table[i]
            if part is not None:
                series = getattr(columns.dates(series).dt, part)
            elif series.dtype != np.float32:
                series = columns.numbers(series)
            numbers[:, k] = series.to_numpy(dtype=np.float32)
        strings = np.empty((len(table), 0), "S1")
        if layout.string_columns:
            strings = np.column_stack([as_bytes(table[i]) for i in layout.string_columns])
        return numbers, strings, (y == labels[1]).to_numpy(np.float32)[:, None]

    def as_bytes(series) -> np.ndarray:
        """A categorical column as fixed-width UTF-8 bytes, each distinct value encoded once;
        a missing value (code -1, the last entry) is the empty string."""
        text = np.array([str(v).encode() for v in series.cat.categories] + [b""], "S")
        return text[series.cat.codes.to_numpy()]

    return load


def tensorflow_parser(stream: CsvStream, layout: Layout):
    """Parses a block with TensorFlow's own ops: split into lines, then tf.io.decode_csv.

    Only the read is Python; the parsing is graph ops, which cost more CPU time than
    pandas' parser (benchmarks/results.md). Number columns must hold numbers (or nothing);
    dates need pandas.
    """
    if any(layout.date_parts):
        raise RecipeError("--parser tensorflow does not read date columns",
                          hint="use --parser arrow or pandas, or --drop them")
    numeric_target = layout.numeric_labels
    defaults = []
    for i in range(layout.n_columns):
        number = i in layout.number_columns or (i == layout.target and numeric_target)
        defaults.append(tf.constant([np.nan], tf.float32) if number else tf.constant([""]))
    labels = [float(v) for v in layout.labels] if numeric_target else layout.labels

    def load_block(path, start, length):
        block = tf.ensure_shape(tf.numpy_function(read_block, [path, start, length],
                                                  tf.string), [])
        lines = tf.strings.split(block, "\n")
        if stream.crlf:
            lines = tf.strings.strip(lines)
        lines = tf.boolean_mask(lines, tf.strings.length(lines) > 0)
        fields = tf.io.decode_csv(lines, defaults)
        y = fields[layout.target]
        if numeric_target:
            present = ~tf.math.is_nan(y)
        else:
            y = tf.strings.strip(y)
            present = y != ""
        known = (y == labels[0]) | (y == labels[1]) | ~present
        with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(known),
                                                          ["a label the sample did not show"])]):
            present = tf.identity(present)
        rows = tf.size(lines)
        numbers = (tf.stack([fields[i] for i in layout.number_columns], axis=1)
                   if layout.number_columns else tf.zeros([rows, 0], tf.float32))
        strings = (tf.stack([tf.strings.strip(fields[i]) for i in layout.string_columns], axis=1)
                   if layout.string_columns else tf.fill([rows, 0], ""))
        y = tf.cast(y == labels[1], tf.float32)[:, None]
        return (tf.boolean_mask(numbers, present), tf.boolean_mask(strings, present),
                tf.boolean_mask(y, present))

    return load_block


PARSERS = {"arrow": arrow_parser, "pandas": pandas_parser,
           "tensorflow": tensorflow_parser}


@contextlib.contextmanager
def reading(stream: CsvStream):
    """Turns TensorFlow's parse errors into one line naming the bad row of the file."""
    try:
        yield
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        raise find_bad_row(stream, str(error)) from None


def find_bad_row(stream: CsvStream, tf_message: str, labels: bool = True
                 ) -> RecipeError:
    """Scans the files with pandas (fast, in chunks) for the first row the pipeline
    rejected: a target that is not one of the two labels, or a row that does not parse.
    `labels`: whether the labels are known yet."""
    target = stream.target
    for path in dict.fromkeys([*stream.train.paths, *stream.test.paths]):
        line = 1
        try:
            with open_file(path) as handle:
                chunks = pd.read_csv(handle, chunksize=200_000, dtype=str, index_col=False,
                                     skipinitialspace=True)
                for chunk in chunks:
                    chunk.columns = stream.columns
                    values = chunk[target]
                    text = values.str.strip()
                    numeric = all(is_number(v) for v in stream.labels)
                    if numeric:
                        known = pd.to_numeric(text, errors="coerce").isin(
                            [float(v) for v in stream.labels])
                    else:
                        known = text.isin(stream.labels)
                    bad = values.notna() & ~known
                    if labels and bad.any():
                        row = int(np.flatnonzero(bad.to_numpy())[0])
                        return RecipeError(
                            f"{path}, line {line + row + 1}, column {target!r}: "
                            f"{text.iloc[row]!r} is not one of the labels "
                            f"({', '.join(map(repr, stream.labels))})",
                            hint="the target must hold one of two labels in every row (or "
                                 "nothing: such rows are skipped); if the sample missed a "
                                 "rare label, raise --sample-rows")
                    line += len(chunk)
        except pd.errors.ParserError as error:
            reason = " ".join(str(error).split())[:160]
            return RecipeError(f"{path}: {reason}",
                               hint="every row needs one value per column")
    reason = " ".join(tf_message.split())[:160]
    return RecipeError(f"could not parse the CSV: {reason}",
                       hint="check the file for rows with the wrong number of fields, "
                            "or numbers where --parser tensorflow needs them")


"""
## Build the model

logistic-regression's model, its preprocessing adapted on the sample (numbers' medians,
means and variances; categories' vocabularies), trained by plain SGD with momentum on
minibatches. The rows per step: `--batch-size` on each worker, or by default 1,024,
doubled up to 4,096 while a pass over this worker's share of the file still takes at least
200 steps. A step's fixed cost dominates on a CPU, so larger steps train a large file
sooner, and 200 steps along the cosine decay are still enough for this convex model to
settle (benchmarks/results.md, "Measured by hand").
"""


def build_model(stream: CsvStream, config: Config | None = None):
    """The model for the stream, saved as `stream.model` (it takes a dict of raw columns),
    and returned as its packed twin (packed_model), which trains it on the pipeline's
    arrays. Call it in the distribution strategy's scope: the strategy decides this
    machine's share of the blocks and the rows per step."""
    config = config or Config()
    strategy = tf.distribute.get_strategy()
    stream.worker = worker_place(strategy)
    stream.batch_size = config.batch_size or default_batch_size(
        stream, stream.worker[1]) * strategy.num_replicas_in_sync
    rows = stream.train.nbytes() / stream.line_bytes
    total_steps = max(1, math.ceil(rows / stream.batch_size) * config.epochs)
    # the learning rate decays along a cosine to 1% by the end, so the last steps settle
    rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, total_steps, alpha=0.01)
    stream.model = family.build_model(
        stream.sample, stream.y_sample, "binary_crossentropy", config=config,
        activation="sigmoid", optimizer=keras.optimizers.SGD(rate, momentum=config.momentum),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")], name="sgd_classifier",
        roles=stream.roles)
    return packed_model(stream.model, stream, config)


def default_batch_size(stream: CsvStream, workers: int = 1) -> int:
    rows = stream.train.nbytes() / stream.line_bytes / workers
    size = 1024
    while size < 4096 and rows / (2 * size) >= 200:
        size *= 2
    return size


def worker_place(strategy) -> tuple[int, int]:
    """This machine's index among the workers of a multi-worker cluster (a chief, when
    there is one, first) and their number, from the strategy's cluster (TF_CONFIG);
    (0, 1) on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 0, 1
    jobs = resolver.cluster_spec().as_dict()
    tasks = [(job, i) for job in ("chief", "worker") for i in range(len(jobs.get(job, ())))]
    me = (resolver.task_type, int(resolver.task_id))
    return (tasks.index(me), len(tasks)) if me in tasks else (0, 1)


def packed_model(model, stream: CsvStream, config: Config | None = None):
    """The model's computation on the pipeline's packed arrays, for training and testing.

    The saved model has an input per column, so that it predicts from raw rows given as
    a dict of columns; it joins the number inputs into one vector before its FillMissing
    and Normalization. The pipeline already delivers the numbers as one array (in the
    same order) and the categories as another, so this twin skips the split and the join:
    it calls the model's own FillMissing, Normalization and lookups on the packed arrays
    and shares its Dense layer, so training it trains the model. A test checks that both
    encode rows alike.
    """
    config = config or Config()
    layout = Layout.of(stream)
    numbers = keras.Input((len(layout.number_inputs),), name="numbers")
    strings = keras.Input((len(layout.string_inputs),), dtype="string", name="strings")
    encoded = PackedEncoding(
        [model.get_layer("fill_numbers"), model.get_layer("standardize_numbers")]
        if layout.number_inputs else [],
        [model.get_layer(f"lookup_{name}") for name in layout.string_inputs])([numbers, strings])
    outputs = model.get_layer("linear")(encoded)
    packed = keras.Model([numbers, strings], outputs, name=f"{model.name}_packed")
    packed.compile(optimizer=model.optimizer, loss=model.loss,
                   metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
                   steps_per_execution=config.steps_per_execution)
    return packed


class PackedEncoding(keras.layers.Layer):
    """The model's preprocessing on packed arrays (see packed_model): `numbers` through
    its FillMissing and Normalization, each column of `strings` through its lookup.
    Training only: never saved."""

    def __init__(self, number_layers: list, lookups: list, **kwargs):
        super().__init__(**kwargs)
        self.number_layers = number_layers
        self.lookups = lookups

    def call(self, inputs):
        numbers, strings = inputs
        pieces = []
        if self.number_layers:
            fill, normalize = self.number_layers
            pieces.append(normalize(fill(numbers)))
        strings = tf.strings.strip(strings)
        pieces += [tf.cast(lookup(strings[:, k:k + 1]), numbers.dtype)
                   for k, lookup in enumerate(self.lookups)]
        return pieces[0] if len(pieces) == 1 else tf.concat(pieces, axis=1)


"""
## Train

One `model.fit` over the pipeline; the runner adds its checkpoint after every pass, so an
interrupted run can be resumed (`--resume DIR`).

On several machines (`--strategy multi-worker`, TensorFlow's MultiWorkerMirroredStrategy)
each worker streams only its own share of the training blocks, every `workers`-th one from
its index on, so each row is trained on once per pass across the cluster and adding
machines adds reading and parsing. The sample, hence the preprocessing, and the test blocks
are the same on every worker: each computes them from the same blocks. The global batch
(--batch-size times the workers) is split between them at every step, and the gradients
are summed across them; a worker whose share ends first takes empty batches until all
are done (tf.distribute's handling of uneven input).
"""


def train(model, stream: CsvStream, config: Config, callbacks=(),
          verbose: int = 1) -> dict[str, list[float]]:
    """Passes over this worker's share of the training blocks; the history. `model`:
    build_model's packed twin. The rows and bytes it read, and the time it took, are kept
    in `stream.read`."""
    counter = tf.Variable(0, dtype="int64", trainable=False)
    bytes_counter = tf.Variable(0, dtype="int64", trainable=False)
    epoch = tf.Variable(0, dtype="int64", trainable=False)
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda n, logs=None: epoch.assign(n))
    worker, workers = stream.worker
    share = stream.train.select(range(worker, len(stream.train), workers))
    ds = to_dataset(stream, share, batch_size=stream.batch_size or default_batch_size(stream),
                    seed=config.seed, epoch=epoch, counter=counter, bytes_counter=bytes_counter,
                    parser=config.parser)
    if workers > 1:  # already split by worker: tf.distribute must not split it again
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF)
        ds = ds.with_options(options)
    started, cpu = time.perf_counter(), time.process_time()
    with reading(stream), warnings.catch_warnings():
        # A stream's length is unknown until its end, where Keras warns that it "ran out".
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(ds, epochs=config.epochs, verbose=verbose,
                            shuffle=False,  # the pipeline shuffles
                            callbacks=[count, *callbacks,
                                       CountFromHere([counter, bytes_counter])])
    stream.read = {"rows": int(counter.numpy()), "bytes": int(bytes_counter.numpy()),
                   "seconds": time.perf_counter() - started,
                   "cpu_seconds": time.process_time() - cpu}  # all cores together
    return history.history


class CountFromHere(keras.callbacks.Callback):
    """Sets the counters to zero as training begins: under a multi-worker strategy, a
    batch is first drawn to build the model with, and that reading is not training."""

    def __init__(self, counters):
        super().__init__()
        self.counters = counters

    def on_train_begin(self, logs=None):
        for counter in self.counters:
            counter.assign(0)


"""
## Evaluate

Block by block over the test blocks: the confusion counts, the log loss and a histogram of
the predicted probabilities of each class (for the ROC curve), so the test set need not
fit in memory either.
"""

BINS = 2000


def evaluate(model, stream: CsvStream) -> dict:
    """The test metrics; the ROC curve (false and true positive rates) is kept in
    `stream.roc`. `model`: build_model's packed twin."""
    threshold = 0.5
    # Called as a function, not through predict_on_batch: under a multi-worker strategy
    # that would split each block across the workers, while each already has them all.
    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    counts = np.zeros(4, dtype=np.int64)  # tn, fp, fn, tp
    histograms = np.zeros((2, BINS), dtype=np.int64)
    loss = 0.0
    with reading(stream):
        for x, y in to_dataset(stream, stream.test, parser=(stream.config or Config()).parser):
            probability = np.asarray(forward(x)).ravel()
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
    stream.roc = (fpr, tpr)
    return family.binary_summary(*(int(c) for c in counts), fpr=fpr, tpr=tpr,
                                 log_loss_sum=loss, threshold=threshold)


def report(model, stream: CsvStream, history: dict, config: Config) -> tuple[dict, dict]:
    """What the run keeps: the saved model (not its packed twin), columns.json for
    `advisor predict`, the ROC curve, and the speed and memory of the fit."""
    read = stream.read
    seconds = read.get("seconds", 0.0)
    metrics = {
        "target": stream.target,
        "task": "binary",
        "labels": stream.labels,
        "features": stream.feature_names,
        "left_out": stream.left_out,
        "probable_leaks": stream.leaks,
        "batch_size": stream.batch_size,
        "sample_rows": int(len(stream.y_sample)),
        "train_bytes": stream.train.nbytes(),
        "train_rows_seen": read.get("rows", 0),  # by this worker, with several
        "train_bytes_read": read.get("bytes", 0),
        "worker": {"index": stream.worker[0], "of": stream.worker[1]},
        "fit_seconds": round(seconds, 3),
        "fit_cpu_seconds": round(read.get("cpu_seconds", 0.0), 3),
        "rows_per_second": round(read.get("rows", 0) / seconds) if seconds > 0 else None,
        "peak_memory_mb": peak_memory_mb(),
        "coefficients": family.coefficients(stream.model),
    }
    if stream.description is not None:
        metrics["bayes_accuracy"] = stream.description["bayes_accuracy"]
        metrics["true_model"] = stream.description["model"]
    return metrics, {
        "model.keras": stream.model,
        family.COLUMNS_FILE: {**stream.schema, "recipe": NAME, "target": stream.target,
                              "task": "binary", "labels": stream.labels, "threshold": 0.5},
        "roc_curve.png": family.plot_roc(*stream.roc, f"{NAME}: {stream.source} (test blocks)")}


def peak_memory_mb() -> float | None:
    """The most resident memory this process has held (Linux counts in KiB, macOS in bytes)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20) if sys.platform == "darwin" else peak / 1024, 1)


"""
## Predict

`advisor predict RUN --data FILE` reads the run's columns.json and model.keras, as for
the in-memory recipes.
"""

predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
