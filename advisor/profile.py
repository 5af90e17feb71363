"""Profiles a CSV with pandas and answers the advisor's questions from what it finds.

Each answer comes with the finding that drove it, so the advisor can say why it thinks
your target is binary or your data outlier-prone. Each column's role (number, category,
date, text, identifier, constant), the probable leaks, and whether the rows form a series,
events or a panel, are decided by recipes.columns, the module the tabular recipes read
tables through, so the advisor and the recipes agree on the features. The thresholds of
the advice live in rules.toml; those of the column roles in recipes/columns.py.
A file too large to load comfortably is profiled from a seeded sample of rows spread over
all of it (read in chunks), the sample `advisor compare` draws its rows from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes.common import ExitStatus, RecipeError


@dataclass
class Profile:
    path: Path
    target: str
    findings: list[tuple[str, str]] = field(default_factory=list)  # (what, what we found)
    answers: dict[str, Any] = field(default_factory=dict)
    because: dict[str, str] = field(default_factory=dict)  # answer key -> the finding
    notes: list[str] = field(default_factory=list)  # advice the data calls for
    facts: dict[str, Any] = field(default_factory=dict)  # the numbers, for --json
    drop: list[str] = field(default_factory=list)  # columns the suggested command drops
    timing: Any = None  # recipes.columns.Timing: series, events, panel or table

    def answer(self, key: str, value: Any, because: str) -> None:
        self.answers[key] = value
        self.because[key] = because

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "target": self.target,
            **self.facts,
            "answers": {k: {"value": v, "because": self.because[k]}
                        for k, v in self.answers.items()},
            "notes": self.notes,
        }


def available_memory() -> int | None:
    """Bytes of memory free for a new process: MemAvailable, capped by a cgroup limit."""
    free = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit.isdigit():
            free = min(free, max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return free


def human_bytes(count: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def read_header(path: Path) -> list[str]:
    """The column names, for error messages and the target prompt."""
    from recipes.data import read_csv

    return [str(c) for c in read_csv(path, what="--csv", nrows=5).columns]


def missing_target_error(path: Path, target: str | None, columns: list[str]) -> RecipeError:
    shown = ", ".join(columns[:40]) + (f", ... ({len(columns)} in all)" if len(columns) > 40
                                        else "")
    if target is None:
        return RecipeError("--csv needs --target: which column should the model predict?",
                           hint=f"add --target COLUMN; the columns are: {shown}",
                           exit_code=ExitStatus.USAGE)
    return RecipeError(f"{path} has no column {target!r}",
                       hint=f"choose --target from: {shown}", exit_code=ExitStatus.USAGE)


# Rows read at a time from a file larger than the sample: memory holds a chunk and the
# sample, never the file.
CHUNK_ROWS = 100_000


def read_sample(csv: Path, size: int, seed: int = 0, chunk_rows: int | None = None,
                progress=None):
    """(rows, how many the file holds): every row of a file of at most `size` rows; else
    `size` rows drawn uniformly over the whole file, in file order, reading `chunk_rows`
    at a time. Each row gets a seeded random key and the `size` smallest keys are kept, so
    the sample is the same whatever the chunk size, a smaller sample with the same seed is
    part of a larger one (the profile's and `advisor compare`'s), and memory never holds
    more than a chunk and the sample. `progress(bytes read, file size)` is called after
    each chunk."""
    import numpy as np
    import pandas as pd

    from recipes.data import read_csv

    chunk_rows = chunk_rows or CHUNK_ROWS
    read_csv(csv, what="--csv", nrows=1)  # every way the file is unreadable: one clear error
    rng = np.random.default_rng(seed)
    kept, keys, total = None, None, 0
    file_size = os.path.getsize(csv)
    try:
        with open(csv, "rb") as handle:
            for chunk in pd.read_csv(handle, encoding="utf-8", chunksize=chunk_rows):
                chunk.index = pd.RangeIndex(total, total + len(chunk))
                chunk_keys = rng.random(len(chunk))
                total += len(chunk)
                if kept is None:
                    kept, keys = chunk, chunk_keys
                else:
                    kept, keys = pd.concat([kept, chunk]), np.concatenate([keys, chunk_keys])
                if len(kept) > size:
                    best = np.argpartition(keys, size - 1)[:size]
                    kept, keys = kept.iloc[best], keys[best]
                if progress is not None:  # the parser reads ahead: about where it is
                    progress(min(handle.tell(), file_size), file_size)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())[:120]
        raise RecipeError(f"{csv} is not a valid CSV ({reason})",
                          hint="check the delimiter, quoting and encoding (UTF-8)") from None
    kept = kept.sort_index()
    return kept.reset_index(drop=True), total


def profile_csv(path: Path | str, target: str, thresholds: dict[str, float],
                memory: int | None = None, progress=None) -> Profile:
    """The profile of the CSV at `path` for predicting `target`. A file read in chunks for
    its sample calls `progress(bytes read, file size)` after each (see read_sample)."""
    from recipes import columns
    from recipes.data import read_csv  # NumPy and pandas: imported only to read a CSV

    path = Path(path)
    size = path.stat().st_size if path.is_file() else 0
    memory = available_memory() if memory is None else memory
    loaded = size * thresholds["memory_factor"]
    fits = memory is None or loaded <= memory
    too_big = size > thresholds["sample_above_bytes"] or not fits
    sample_rows = int(thresholds["sample_rows"])
    if too_big:  # the sample `advisor compare` draws its rows from, seed 0
        header = [str(c).lstrip("\ufeff") for c in read_csv(path, what="--csv", nrows=1)]
        if target not in header:  # said before the whole file is read
            raise missing_target_error(path, target, header)
        frame, rows = read_sample(path, sample_rows, progress=progress)
    else:
        frame = read_csv(path, what="--csv")
        rows = len(frame)
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    if target not in frame.columns:
        raise missing_target_error(path, target, list(frame.columns))

    profile = Profile(path=path, target=target)
    sampled = rows > len(frame)
    shown_rows = f"{rows:,} (profiled from a sample of {len(frame):,})" if sampled \
        else f"{rows:,}"
    profile.facts.update(bytes=size, sampled=sampled, rows=rows, columns=len(frame.columns))
    profile.findings.append(("file", f"{path.name}, {human_bytes(size)}"))
    profile.findings.append(("rows", shown_rows))

    # The target: what kind of value is it? (recipes.columns decides, as in the recipes.)
    y = frame[target]
    present = y.dropna()
    if present.empty:
        raise RecipeError(f"target column {target!r} is empty in every row"
                          + (" read" if sampled else ""),
                          hint="choose a --target column that holds values")
    values = present.nunique()
    if values < 2:
        raise RecipeError(f"target column {target!r} holds a single value "
                          f"({present.iloc[0]!r}): there is nothing to predict",
                          hint="choose a --target column with at least two different values")
    numeric = _is_number(present)
    kind = columns.target_kind(present)
    profile.facts.update(target_kind=kind, target_values=int(values),
                         target_missing=int(y.isna().sum()))
    examples = ", ".join(map(str, sorted(present.unique()[:3].tolist(), key=str)))
    if kind == "continuous":
        kind_text = (f"continuous ({values:,} different values, "
                     f"{present.min():.4g} to {present.max():.4g})")
    elif kind == "binary":
        kind_text = f"binary: 2 values ({examples})"
    else:
        kind_text = f"multi-class: {values} values ({examples}, ...)"
    profile.findings.append((f"target {target!r}", kind_text))
    if kind == "multi-class" and numeric:
        profile.notes.append(f"{target!r} holds whole numbers with only {values} different "
                             "values, read as categories: pass --goal predict-number if it is "
                             "a quantity")
    if y.isna().any():
        profile.notes.append(f"{int(y.isna().sum()):,} row(s) have no {target!r}: the recipes "
                             "leave them out of training and testing")

    # The columns: each one's role, decided by recipes.columns exactly as the recipes do,
    # on the rows that have a target.
    known = frame.loc[y.notna()]
    roles = columns.classify(known, target)
    used = [c for c in roles if roles[c].role in columns.USED]
    text = [c for c in roles if roles[c].role == "text"]
    profile.facts["column_roles"] = {c: {"role": r.role, "why": r.why} for c, r in roles.items()}
    profile.facts["date_columns"] = [c for c in roles if roles[c].role == "date"]
    profile.facts["text_columns"] = text
    for name in roles:
        if roles[name].role in ("identifier", "constant", "empty"):
            profile.notes.append(f"{name!r} is left out of the features: {roles[name].role}, "
                                 f"{roles[name].why}")

    # Leaks: a feature that alone predicts the target almost perfectly.
    leaks = columns.leaks(known, target, {c: roles[c] for c in used}, kind)
    profile.drop = list(leaks)
    profile.facts["leaks"] = leaks
    for name, why in leaks.items():
        profile.notes.append(f"{name!r} is a probable leak: {why}. It is the answer in "
                             "disguise, known only after the fact: leave it out of the "
                             f"features (--drop {name}) unless its value is known before "
                             "the prediction is made")
    features = [c for c in used if c not in leaks]

    # Time: a series, events or a panel?
    timing = columns.timing(known, target, roles)
    profile.timing = timing
    profile.facts["timing"] = timing.to_json()
    if timing.shape == "series" and kind == "continuous" and timing.key in features:
        features.remove(timing.key)  # the time orders the series to forecast; no input
    counts = {role: sum(roles[c].role == role for c in features)
              for role in ("number", "category", "date")}
    counts["text"] = len(text)
    profile.facts["feature_kinds"] = counts
    left = len(roles) - len(features) - len(text)
    profile.findings.append(("columns", f"{len(frame.columns)}: the target and "
                                        f"{len(features) + len(text)} feature column"
                                        f"{'s' if len(features) + len(text) != 1 else ''}"
                                        + (f" ({left} left out)" if left else "")))
    profile.findings.append(("feature types", ", ".join(f"{n} {k}" for k, n in counts.items()
                                                         if n) or "none"))
    if timing.shape != "table":
        profile.findings.append(("time", timing.why))

    # Missing values.
    missing = {str(c): int(n) for c, n in known[features].isna().sum().items() if n}
    cells = int(sum(missing.values()))
    profile.facts["missing_cells"] = cells
    profile.facts["columns_with_missing"] = missing
    if cells:
        worst = ", ".join(f"{c} ({n:,})" for c, n in
                          sorted(missing.items(), key=lambda item: -item[1])[:4])
        share = cells / max(len(known) * len(features), 1)
        profile.findings.append(("missing values", f"{cells:,} feature cells ({share:.1%}) "
                                                   f"in {len(missing)} column(s): {worst}"))
        profile.notes.append("the tabular recipes fill a missing number with the training "
                             "median (and mark it missing) and give a missing category its "
                             "own value, inside the model; fill them yourself where you know "
                             "better")
    else:
        profile.findings.append(("missing values", "none in the features"))

    # Answers, each from a finding.
    if kind in ("binary", "multi-class"):
        if not features and not text:
            raise RecipeError(f"{path} has no columns to predict {target!r} from",
                              hint="a model needs input columns besides the target (other "
                                   "than identifiers, constants and leaks): add them, or "
                                   "choose another --target")
        profile.answer("goal", "predict-category", f"the target is {kind}")
        profile.answer("classes", int(values), f"the target has {values} different values")
        shares = present.value_counts(normalize=True)
        profile.facts["class_shares"] = {str(k): round(float(v), 4) for k, v in shares.items()}
        if shares.min() < 0.1:
            profile.notes.append(f"the rarest class is {shares.min():.1%} of the rows: judge the "
                                 "model by precision, recall and F1, not accuracy alone")
        if timing.shape != "table":
            profile.notes.append(f"the rows carry a time ({timing.key!r}): test on the latest "
                                 "rows rather than a random sample, or the score will flatter")
    elif timing.shape == "series":
        profile.answer("goal", "forecast", f"{timing.why}, with a continuous target")
    elif timing.shape in ("panel", "events"):
        profile.answer("goal", "predict-number",
                       f"{timing.why}: a regression on the other columns, the time expanded "
                       "into parts (year, month, day, hour)")
        if timing.shape == "panel":
            profile.notes.append(f"a panel, several series side by side: {timing.why}. The "
                                 "lstm-forecaster takes one series: keep one "
                                 f"{timing.entity!r} to forecast it, or give the regression "
                                 "lagged values as features")
    elif not features:
        profile.answer("goal", "forecast",
                       "a continuous target with no other columns: a series in row order")
    else:
        profile.answer("goal", "predict-number", "the target is continuous")
    if profile.answers["goal"] == "forecast":
        steps = timing.steps if timing.shape == "series" else len(present)
        shortest = int(thresholds["series_min_steps"])
        profile.facts["series_steps"] = steps
        if steps < shortest:
            profile.notes.append(
                f"only {steps:,} time steps: too short for an LSTM to beat the naive "
                f"forecasts reliably (measured: it needs about {shortest:,}, see "
                "benchmarks/series_length.md). "
                "Start with exponential smoothing (statsmodels ExponentialSmoothing) or ARIMA "
                "(statsmodels SARIMAX, pmdarima auto_arima), and compare every model with the "
                "seasonal naive")

    if text and len(text) * 2 >= len(features) + len(text):
        profile.answer("data", "text", f"free-text column(s): {', '.join(text[:3])}")
        features = features + text
    else:
        profile.answer("data", "tabular", "a CSV of rows and columns")
        if text:
            profile.notes.append("free-text column(s) left out of the features: "
                                 + ", ".join(text[:3]))
    profile.facts["features"] = len(features)
    profile.answer("rows", rows, f"{shown_rows} rows")
    if features:
        left = len(roles) - len(features)
        profile.answer("features", len(features),
                       f"{len(features)} feature column" + ("s" if len(features) != 1 else "")
                       + (f" ({left} other column{'s' if left != 1 else ''} left out)"
                          if left else ""))

    ratio = thresholds["many_features_per_row"]
    if features:
        many = len(features) >= ratio * rows
        per_row = rows / len(features)
        plural = "s" if len(features) != 1 else ""
        profile.answer(
            "feature_selection", many,
            f"{len(features)} feature{plural} for {rows:,} rows (one per {per_row:,.0f} rows): "
            + ("many, let the model pick" if many else "few enough to keep them all"))

    if numeric and kind != "binary":  # outliers of a number (also one read as classes)
        target_values = present.to_numpy(dtype=float)
        share, method = outlier_share(target_values, thresholds)
        count = round(share * len(present))
        outliers = share > thresholds["outlier_share"] and count >= thresholds["outlier_min_count"]
        profile.facts["outlier_share"] = round(share, 5)
        profile.facts["outlier_method"] = method
        because = f"{share:.1%} of the target's values ({count:,}) are outliers, {method}"
        if kind == "continuous":
            profile.findings.append(("target outliers", because))
            skew = log_scale(target_values, thresholds)
            if skew is not None:
                profile.facts["target_skew"] = skew
                profile.notes.append(
                    f"{target!r} is positive, right-skewed (skewness {skew['skew']:.1f}) and "
                    f"its largest value is {skew['span']:,.0f} times its smallest: model its "
                    f"logarithm (train on log({target}), exp() the predictions) so that the "
                    "largest values stop dominating the fit")
                if outliers and not skew["log_outliers"]:
                    outliers = False
                    because += ("; on a log scale none are: they are the long tail of a "
                                "skewed target")
        profile.answer("outliers", outliers,
                       because + (": outlier-prone" if outliers else ": few"))

    if memory is not None:
        profile.facts["memory"] = {"file_bytes": size, "loaded_bytes_estimate": int(loaded),
                                   "available_bytes": memory}
        memory_text = (f"about {human_bytes(loaded)} once loaded, "
                       f"{human_bytes(memory)} of memory free")
        profile.findings.append(("memory", memory_text))
        profile.answer("fits_in_memory", fits, memory_text)
    if sampled:
        profile.notes.append(f"profiled a random sample of {len(frame):,} rows spread over "
                             f"all {rows:,} of a {human_bytes(size)} file")
    return profile


def _is_number(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def log_scale(values, thresholds) -> dict | None:
    """For a strictly positive, right-skewed target spanning orders of magnitude: its
    skewness, its span (largest / smallest) and whether it still has outliers on a log
    scale. None where a logarithm would not help."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if finite.size < 20 or finite.min() <= 0:
        return None
    skew, span = _skewness(finite), float(finite.max() / finite.min())
    if skew < thresholds["log_target_skew"] or span < thresholds["log_target_span"]:
        return None
    logs = np.log(finite)
    if abs(_skewness(logs)) >= skew:
        return None
    share, _ = outlier_share(logs, thresholds)
    outliers = share > thresholds["outlier_share"] and \
        round(share * logs.size) >= thresholds["outlier_min_count"]
    return {"skew": round(skew, 3), "span": round(span, 3), "log_outliers": bool(outliers)}


def _skewness(values) -> float:
    import numpy as np

    spread = values.std()
    return float(np.mean((values - values.mean()) ** 3) / spread ** 3) if spread > 0 else 0.0


def outlier_share(values, thresholds) -> tuple[float, str]:
    """Share of values outside Tukey's far-out fences (3 IQR beyond the quartiles).

    Quartiles are robust: a few wild values do not move the fences that judge them. Where
    most values are equal (IQR 0), the share of values away from that one value counts.
    """
    import numpy as np

    finite = values[np.isfinite(values)]
    infinite = values.size - finite.size
    if finite.size == 0:
        return 1.0, "every value is infinite"
    k = thresholds["outlier_iqr_k"]
    q1, q3 = np.percentile(finite, [25, 75])
    iqr = float(q3 - q1)
    if iqr > 0:
        far = int(np.sum((finite < q1 - k * iqr) | (finite > q3 + k * iqr)))
        method = f"beyond {k:g} IQR from the quartiles"
    else:
        far = int(np.sum(finite != np.median(finite)))
        method = "away from the value most rows share"
    return (far + infinite) / values.size, method
