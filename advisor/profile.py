"""Profiles a CSV with pandas and answers the advisor's questions from what it finds.

Each answer comes with the finding that drove it, so the advisor can say why it thinks
your target is binary or your data outlier-prone. The thresholds live in rules.toml.
A file too large to load comfortably is profiled from a sample of its first rows.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes.common import ExitStatus, RecipeError
from recipes.data import read_csv


@dataclass
class Profile:
    path: Path
    target: str
    findings: list[tuple[str, str]] = field(default_factory=list)  # (what, what we found)
    answers: dict[str, Any] = field(default_factory=dict)
    because: dict[str, str] = field(default_factory=dict)  # answer key -> the finding
    notes: list[str] = field(default_factory=list)  # advice the data calls for
    facts: dict[str, Any] = field(default_factory=dict)  # the numbers, for --json

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


def profile_csv(path: Path | str, target: str, thresholds: dict[str, float],
                memory: int | None = None) -> Profile:
    import pandas as pd

    path = Path(path)
    size = path.stat().st_size if path.is_file() else 0
    memory = available_memory() if memory is None else memory
    loaded = size * thresholds["memory_factor"]
    fits = memory is None or loaded <= memory
    too_big = size > thresholds["sample_above_bytes"] or not fits
    sample_rows = int(thresholds["sample_rows"])
    frame = read_csv(path, what="--csv", nrows=sample_rows if too_big else None)
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    if target not in frame.columns:
        raise missing_target_error(path, target, list(frame.columns))

    profile = Profile(path=path, target=target)
    sampled = too_big and len(frame) == sample_rows
    rows = _estimate_rows(path, size, len(frame)) if sampled else len(frame)
    features = [c for c in frame.columns if c != target]
    profile.facts.update(bytes=size, sampled=sampled, rows=rows, rows_estimated=sampled,
                         columns=len(frame.columns), features=len(features))
    shown_rows = f"about {rows:,} (estimated from the first {len(frame):,})" if sampled \
        else f"{rows:,}"
    profile.findings.append(("file", f"{path.name}, {human_bytes(size)}"))
    profile.findings.append(("rows", shown_rows))
    profile.findings.append(("columns", f"{len(frame.columns)}: the target and "
                                        f"{len(features)} feature column"
                                        f"{'s' if len(features) != 1 else ''}"))

    # The target: what kind of value is it?
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
    numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
    kind = _target_kind(present, numeric, values, thresholds)
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

    # The feature columns: numbers, categories, dates, free text.
    dates = [c for c in features if _looks_like_dates(frame[c], thresholds)]
    text = [c for c in features if c not in dates and _looks_like_text(frame[c], thresholds)]
    kinds = {"numeric": 0, "boolean": 0, "categorical": 0, "date": len(dates), "text": len(text)}
    for column in features:
        if column in dates or column in text:
            continue
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            kinds["boolean"] += 1
        elif pd.api.types.is_numeric_dtype(series):
            kinds["numeric"] += 1
        else:
            kinds["categorical"] += 1
    profile.facts["feature_kinds"] = kinds
    profile.facts["date_columns"] = dates
    profile.facts["text_columns"] = text
    profile.findings.append(("feature types", ", ".join(f"{n} {k}" for k, n in kinds.items()
                                                         if n) or "none"))
    if kinds["categorical"]:
        profile.notes.append(f"{kinds['categorical']} feature column(s) hold categories: "
                             "encode them (one-hot, or keras.layers.StringLookup) before training")

    # Missing values.
    missing = frame.isna().sum()
    missing = {str(c): int(n) for c, n in missing.items() if n}
    cells = int(sum(missing.values()))
    profile.facts["missing_cells"] = cells
    profile.facts["columns_with_missing"] = missing
    if cells:
        worst = ", ".join(f"{c} ({n:,})" for c, n in
                          sorted(missing.items(), key=lambda item: -item[1])[:4])
        share = cells / max(frame.size, 1)
        profile.findings.append(("missing values", f"{cells:,} cells ({share:.1%}) in "
                                                   f"{len(missing)} column(s): {worst}"))
        profile.notes.append("fill in or drop the missing values before training "
                             "(for example sklearn.impute.SimpleImputer)")
    else:
        profile.findings.append(("missing values", "none"))

    # Answers, each from a finding.
    if kind in ("binary", "multi-class"):
        if not features:
            raise RecipeError(f"{path} has no columns besides the target {target!r}",
                              hint="a model needs input columns to predict from: add them, "
                                   "or choose another --target")
        profile.answer("goal", "predict-category", f"the target is {kind}")
        profile.answer("classes", int(values), f"the target has {values} different values")
        counts = present.value_counts(normalize=True)
        profile.facts["class_shares"] = {str(k): round(float(v), 4) for k, v in counts.items()}
        if counts.min() < 0.1:
            profile.notes.append(f"the rarest class is {counts.min():.1%} of the rows: judge the "
                                 "model by precision, recall and F1, not accuracy alone")
    elif dates:
        profile.answer("goal", "forecast",
                       f"a date column ({dates[0]}) and a continuous target: a time series")
    elif not features:
        profile.answer("goal", "forecast",
                       "a continuous target with no other columns: a series to continue")
    else:
        profile.answer("goal", "predict-number", "the target is continuous")

    if text and len(text) * 2 >= len(features):
        profile.answer("data", "text", f"free-text column(s): {', '.join(text[:3])}")
    else:
        profile.answer("data", "tabular", "a CSV of rows and columns")
    profile.answer("rows", rows, f"{shown_rows} rows")
    if features:
        profile.answer("features", len(features), f"{len(features)} feature column"
                                                  + ("s" if len(features) != 1 else ""))

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
        share, method = outlier_share(present.to_numpy(dtype=float), thresholds)
        count = round(share * len(present))
        outliers = share > thresholds["outlier_share"] and count >= thresholds["outlier_min_count"]
        profile.facts["outlier_share"] = round(share, 5)
        profile.facts["outlier_method"] = method
        text_share = (f"{share:.1%} of the target's values ({count:,}) are outliers, "
                      f"{method}")
        if kind == "continuous":
            profile.findings.append(("target outliers", text_share))
        profile.answer("outliers", outliers,
                       text_share + (": outlier-prone" if outliers else ": few"))

    if memory is not None:
        profile.facts["memory"] = {"file_bytes": size, "loaded_bytes_estimate": int(loaded),
                                   "available_bytes": memory}
        memory_text = (f"about {human_bytes(loaded)} once loaded, "
                       f"{human_bytes(memory)} of memory free")
        profile.findings.append(("memory", memory_text))
        profile.answer("fits_in_memory", fits, memory_text)
    if sampled:
        profile.notes.append(f"profiled the first {len(frame):,} rows of a "
                             f"{human_bytes(size)} file, not the whole file")
    return profile


def _target_kind(present, numeric: bool, values: int, thresholds) -> str:
    """binary (two values), multi-class (labels, or a few whole numbers) or continuous."""
    import numpy as np

    if values == 2:
        return "binary"
    if numeric:
        array = present.to_numpy(dtype=float)
        finite = array[np.isfinite(array)]
        whole = finite.size == array.size and bool(np.all(finite == np.round(finite)))
        if whole and values <= thresholds["class_max_values"]:
            return "multi-class"
        return "continuous"
    return "multi-class"


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


def _looks_like_dates(series, thresholds) -> bool:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.dropna().astype(str)
    if values.empty:
        return False
    if len(values) > 200:
        values = values.sample(200, random_state=0)
    share = thresholds["datetime_share"]
    if values.str.len().max() > 40 or values.str.contains(r"\d.*[-/:.].*\d").mean() < share:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().mean() >= share)


def _looks_like_text(series, thresholds) -> bool:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.dropna().astype(str)
    if values.empty:
        return False
    words = values.str.split().str.len().mean()
    return bool(words >= thresholds["text_min_words"] and values.nunique() >= 0.5 * len(values))


def _estimate_rows(path: Path, size: int, rows_read: int) -> int:
    """Rows in a file too large to read, from the bytes per row of its first rows."""
    with open(path, "rb") as handle:
        header = len(handle.readline())
        used = 0
        for _ in range(rows_read):
            line = handle.readline()
            if not line:
                break
            used += len(line)
    if used == 0:
        return rows_read
    return max(rows_read, int((size - header) / (used / rows_read)))
