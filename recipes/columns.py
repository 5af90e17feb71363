"""What each column of a table is: the one place that decides it.

The advisor's profile (`advisor recommend --csv`) and the tabular recipes both read a
table's columns through `classify`, so they never disagree about which columns are
features. Every column gets one role and a sentence saying why:

| role         | what it is                                         | the recipes          |
| ------------ | -------------------------------------------------- | -------------------- |
| `number`     | a quantity (numbers, or text that is numbers)      | imputed, normalised  |
| `category`   | strings, booleans, small whole-number codes 0/1..k | one-hot, with OOV    |
| `date`       | dates or times                                     | expanded into parts  |
| `text`       | free text (several words, mostly unique)           | left out            |
| `identifier` | a different value in every row: an index, a name   | left out            |
| `constant`   | one value in every row                             | left out            |
| `empty`      | missing in every row                               | left out            |

`leaks` names the features that alone predict the target almost perfectly: usually the
target in disguise, known only after the fact. `timing` says whether the rows form a
series (one row per evenly spaced step of a date or numeric time key), events (many rows
per time), a panel (several entities over time) or a plain table.

Only pandas and NumPy, imported where used: the advisor imports this module and must
start fast.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass

USED = ("number", "category", "date")  # the roles the tabular recipes train on
LEFT_OUT = ("text", "identifier", "constant", "empty")

# Thresholds, shared by the advisor and the recipes.
DATE_SHARE = 0.95         # a string column whose values parse as dates this often is a date
NUMBER_SHARE = 0.9        # ... whose values parse as numbers this often is a number
TEXT_MIN_WORDS = 5        # a string column averaging 5+ words per value is free text
UNIQUE_SHARE = 0.9        # a string column this unique (and short) holds names or codes
MAX_CODES = 24            # whole numbers 0..k or 1..k with 3 to 24 values are category codes
CLASS_MAX_VALUES = 20     # a whole-number target with at most 20 values is read as classes
MAX_CLASSES = 100         # more distinct labels than this is not a classification target
LEAK_SCORE = 0.99         # one feature alone this good at the target: a probable leak
LEAK_ROWS = 50_000        # leaks are judged on at most this many rows (a fixed sample)

ID_NAME = re.compile(r"^(id|idx|index|key|row|rownames|row_?(id|number)|unnamed: ?\d+|"
                     r".*[_ .-]id|id[_ .-].*|.*[a-z]Id|.*ID)$", re.IGNORECASE)
DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")


@dataclass(frozen=True)
class Column:
    name: str
    role: str
    why: str
    missing: int = 0
    distinct: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def classify(frame, target: str | None = None) -> dict[str, Column]:
    """The role of every column but the target, in the frame's order."""
    return {str(name): classify_column(frame[name], str(name))
            for name in frame.columns if str(name) != target}


def classify_column(series, name: str) -> Column:
    import pandas as pd

    present = series.dropna()
    missing, distinct = int(len(series) - len(present)), int(present.nunique())

    def column(role: str, why: str) -> Column:
        return Column(name, role, why, missing, distinct)

    if present.empty:
        return column("empty", "missing in every row")
    if distinct == 1:
        value = present.iloc[0]
        value = value.item() if hasattr(value, "item") else value  # 2013, not np.int64(2013)
        return column("constant", f"the same value ({value!r}) in every row")
    if pd.api.types.is_bool_dtype(present):
        return column("category", "true/false values")
    if pd.api.types.is_datetime64_any_dtype(present):
        return column("date", "dates")
    unique_per_row = distinct == len(present) and len(present) >= 10
    if pd.api.types.is_numeric_dtype(present):
        values = present.to_numpy(dtype=float)
        whole = bool((values == values.round()).all())
        if whole and unique_per_row and (ID_NAME.match(name) or _consecutive(values)):
            return column("identifier", "a different whole number in every row"
                          + (", named like an identifier" if ID_NAME.match(name)
                             else ", counting up: a row number"))
        if whole and _codes(values, distinct, len(present)):
            low = int(values.min())
            return column("category", f"whole-number codes {low}..{low + distinct - 1}: "
                                      "read as categories")
        return column("number", "numbers")

    text = present.astype(str)
    if unique_per_row and ID_NAME.match(name):
        return column("identifier", "a different value in every row, named like an identifier")
    # Each different string is parsed once, and weighted by how often it occurs: a column of
    # a few values in many rows costs no more than its values.
    counts = text.value_counts(sort=False)
    strings = counts.index.to_series(index=range(len(counts)))
    is_number = pd.to_numeric(strings.str.strip(), errors="coerce").notna().to_numpy()
    rows = counts.to_numpy()
    parsed = float(rows[is_number].sum() / len(text))
    if parsed >= NUMBER_SHARE:
        odd = text[text.isin(set(strings[~is_number]))]
        return column("number", "numbers" + (
            f"; {len(odd)} value(s) that are not ({odd.iloc[0]!r}) read as missing"
            if len(odd) else ""))
    if looks_like_dates(text):
        return column("date", "dates or times")
    words = float((strings.str.split().str.len().to_numpy() * rows).sum() / rows.sum())
    if words >= TEXT_MIN_WORDS and distinct >= 0.5 * len(present):
        return column("text", f"free text ({words:.0f} words per value on average)")
    if len(present) >= 10 and distinct >= UNIQUE_SHARE * len(present):
        return column("identifier", f"{distinct:,} different values in {len(present):,} "
                                    "rows: names or codes")
    return column("category", f"{distinct:,} different strings")


def _consecutive(values) -> bool:
    import numpy as np

    ordered = np.sort(values)
    return bool(np.all(np.diff(ordered) == 1))


def _codes(values, distinct: int, rows: int) -> bool:
    low, high = values.min(), values.max()
    return (3 <= distinct <= MAX_CODES and low in (0, 1) and high - low == distinct - 1
            and rows >= 5 * distinct)


def looks_like_dates(text) -> bool:
    """Strings that parse as dates or times (at least DATE_SHARE of a sample of them)."""
    import pandas as pd

    values = text if len(text) <= 200 else text.sample(200, random_state=0)
    if values.str.len().max() > 40 or values.str.contains(r"\d.*[-/:.].*\d").mean() < DATE_SHARE:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().mean() >= DATE_SHARE)


def numbers(series):
    """A number column as floats: text that is not a number becomes missing."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    return pd.to_numeric(series.astype("string").str.strip(), errors="coerce").astype(float)


def categories(series):
    """A category column as strings; a missing value is the empty string (its own value)."""
    import pandas as pd

    if pd.api.types.is_float_dtype(series):  # whole-number codes read with a NaN: 1.0 -> "1"
        text = series.map(lambda v: "" if v != v else f"{v:g}")
    else:
        text = series.astype("string").fillna("").astype(str)
    return text.str.strip().astype(object)


def dates(series):
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(series, errors="coerce", format="mixed")


def date_parts(series) -> dict[str, object]:
    """The parts of a date column worth learning from: those that vary in it."""
    parsed = dates(series)
    parts = {}
    for part in DATE_PARTS:
        values = getattr(parsed.dt, part).astype(float)
        if values.nunique() > 1:
            parts[part] = values
    return parts


# --------------------------------------------------------------------------
# The target
# --------------------------------------------------------------------------


def target_kind(series) -> str:
    """binary (two values), multi-class (labels, or a few whole numbers) or continuous."""
    import pandas as pd

    present = series.dropna()
    distinct = present.nunique()
    if distinct == 2:
        return "binary"
    if pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present):
        values = present.to_numpy(dtype=float)
        whole = bool((values == values.round()).all())
        return "multi-class" if whole and distinct <= CLASS_MAX_VALUES else "continuous"
    return "multi-class"


POSITIVE = ("1", "1.0", "true", "yes", "y", "t", "positive", "pos", "up")


def label_names(series) -> list[str]:
    """The distinct labels of a classification target as strings, in sorted order."""
    return sorted(categories(series.dropna()).unique().tolist(), key=_label_order)


def _label_order(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label.lower())


def positive_label(series) -> str:
    """The class a binary classifier detects: 1, true or yes in any spelling; otherwise the
    rarer class (the one worth finding, such as a default or a disease)."""
    labels = label_names(series)
    for label in labels:
        if label.lower() in POSITIVE:
            return label
    counts = categories(series.dropna()).value_counts()
    return min(labels, key=lambda label: (counts[label], labels.index(label) * -1))


# --------------------------------------------------------------------------
# Leaks
# --------------------------------------------------------------------------


def leaks(frame, target: str, roles: dict[str, Column], kind: str) -> dict[str, str]:
    """Features that alone predict the target almost perfectly: {column: why}.

    A number against a continuous target: rank correlation of at least LEAK_SCORE. Against
    labels: one threshold on it (or, for a category, one label per value) gets at least
    LEAK_SCORE of the rows right. Either way the model would learn the answer, not a rule.
    Judged on a fixed sample of LEAK_ROWS rows of a larger table, so that the advisor's
    profile and a recipe reading the same table agree.
    """
    import numpy as np
    import pandas as pd

    if len(frame) > LEAK_ROWS:  # a score of 0.99 is as clear on a sample, and sorts faster
        rows = np.random.default_rng(0).choice(len(frame), LEAK_ROWS, replace=False)
        frame = frame.iloc[np.sort(rows)]
    y = frame[target]
    keep = y.notna()
    found = {}
    if kind == "continuous":
        target_numbers = numbers(y[keep])
        target_ranks = target_numbers.rank()
    elif keep.any():  # the labels as whole numbers, once: sorting strings per column is slow
        codes = pd.factorize(categories(y[keep]).to_numpy())[0]
        majority = float(np.bincount(codes).max() / len(codes))
    for name, column in roles.items():
        if column.role not in ("number", "category"):
            continue
        x = frame.loc[keep, name]
        if x.isna().mean() > 0.5 or len(x) < 20:
            continue
        if kind == "continuous":
            if column.role != "number":
                continue
            x = numbers(x)
            rho = (float(x.rank().corr(target_ranks)) if x.notna().all()
                   and target_ranks.notna().all() else _spearman(x, target_numbers))
            if rho == rho and abs(rho) >= LEAK_SCORE:
                found[name] = f"its rank correlation with {target!r} is {rho:.3f}"
            continue
        if column.role == "category":
            values = categories(x)
            if values.nunique() > len(values) / 10:
                continue
            table = pd.DataFrame({"_v": values.to_numpy(), "_y": codes})
            score = table.value_counts().groupby(level="_v").max().sum() / len(table)
            how = "knowing its value alone"
        else:
            score = _best_threshold_score(numbers(x).to_numpy(), codes)
            how = "one threshold on it alone"
        if score >= LEAK_SCORE and score > majority + 0.5 * (1 - majority):
            found[name] = f"{how} gets {score:.1%} of {target!r} right"
    return found


def _spearman(x, y) -> float:
    """Spearman's rank correlation over the rows where both are present: the Pearson
    correlation of their ranks (what pandas computes, without importing SciPy)."""
    both = x.notna() & y.notna()
    return float(x[both].rank().corr(y[both].rank()))


def _best_threshold_score(x, labels) -> float:
    """The best accuracy of predicting the labels from x by cutting it into two ranges
    (each range predicts its commonest label); missing x count as wrong."""
    import numpy as np

    ok = np.isfinite(x)
    if not ok.any():
        return 0.0
    order = np.argsort(x[ok])  # the order among equal values does not matter: cuts fall
    xs, ys = x[ok][order], labels[ok][order]  # only between different values
    if np.issubdtype(ys.dtype, np.integer) and ys.min() >= 0:  # codes already: no sort
        codes, count = ys, int(ys.max()) + 1
    else:
        classes, codes = np.unique(ys, return_inverse=True)
        count = len(classes)
    onehot = np.eye(count, dtype=np.int64)[codes]
    left = np.cumsum(onehot, axis=0)
    right = left[-1] - left
    cut = np.r_[np.flatnonzero(np.diff(xs) > 0), len(xs) - 1]  # split only between values
    correct = left[cut].max(axis=1) + right[cut].max(axis=1)
    return float(correct.max() / len(x))


# --------------------------------------------------------------------------
# Time: a series, events, a panel, or none
# --------------------------------------------------------------------------

# A number column is a time key only if it is named like one or steps by a fraction (a
# decimal year); a whole number counting up by one is otherwise a row number.
TIME_NAME = re.compile(r"^(t|ds|time|times|timestamp|date|datetime|period|epoch|step|"
                       r"year|yr|quarter|month|week|day|hour|minute|second)s?$|"
                       r".*[_ .-](time|date|year)$", re.IGNORECASE)
EVEN_SHARE = 0.9        # this share of the gaps within 15% of the usual one: evenly spaced
REPEAT_SHARE = 0.05     # more than 5% of the rows repeat a time: events (or a panel), not steps
PANEL_UNIQUE = 0.99     # an entity and the time together tell this share of the rows apart,
PANEL_COVERAGE = 0.5    # and half the entities (or more) have a row at each time on average


@dataclass(frozen=True)
class Timing:
    """How a table relates to time.

    shape: `series` (one row per evenly spaced step of `key`), `events` (rows that carry a
    time, many per time or at irregular times), `panel` (one row per `entity` per time) or
    `table` (no time key). `steps` counts the distinct times; `step` says their spacing.
    """

    shape: str
    key: str | None
    why: str
    steps: int = 0
    step: str = ""
    entity: str | None = None
    key_is_date: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def timing(frame, target: str | None, roles: dict[str, Column]) -> Timing:
    """Decides from the data whether the rows form a series, events or a panel.

    A time key is a date column, or a number column that rises in every row by an even step
    (named like a time, or stepping by a fraction such as 1/12 of a year). One row per step:
    a series. Many rows per time: events that happen to carry a time, unless one other
    column (an entity) and the time together tell the rows apart: a panel.
    """
    import numpy as np
    import pandas as pd

    found = []
    for name, column in roles.items():
        series = frame[name]
        if column.role == "date":
            times = _times(series)
            if times.notna().mean() >= DATE_SHARE:
                found.append(_date_timing(frame, name, times.dropna(), roles))
        elif (column.role in ("number", "identifier") and column.missing == 0
              and pd.api.types.is_numeric_dtype(series) and len(series) >= 3):
            values = series.to_numpy(dtype=float)
            gaps = np.diff(values)
            if not np.isfinite(values).all() or not (gaps > 0).all():
                continue
            usual = float(np.median(gaps))
            whole = bool((values == values.round()).all())
            if whole and not TIME_NAME.match(name):
                continue  # 1, 2, 3, ...: a row number, not a time
            share = float(np.mean(np.abs(gaps - usual) <= 0.15 * usual))
            if share >= EVEN_SHARE:
                found.append(Timing("series", name, f"{name!r} rises by {usual:.4g} in "
                                    f"every row: a time key, one row per step",
                                    len(values), f"{usual:.4g}"))
    for shape in ("series", "panel", "events"):
        for result in found:
            if result.shape == shape:
                return result
    return Timing("table", None, "no column of dates or times")


def _times(series):
    """A date column as timestamps, fast when one format fits every value."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(series, errors="coerce")  # the first value's format
        except (ValueError, TypeError, OverflowError):
            parsed = None
    if parsed is None or parsed.notna().mean() < DATE_SHARE:
        parsed = dates(series)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed


def _date_timing(frame, name: str, times, roles: dict[str, Column]) -> Timing:
    import numpy as np

    rows, steps = len(times), int(times.nunique())
    if steps < 2:
        return Timing("table", None, f"{name!r} holds a single time")
    repeated = 1 - steps / rows
    if repeated <= REPEAT_SHARE:
        ordered = np.sort(times.drop_duplicates().to_numpy().astype("datetime64[ns]"))
        gaps = np.diff(ordered).astype("int64") / 1e9
        usual = float(np.median(gaps))
        step = _duration(usual)
        even = usual > 0 and float(np.mean(np.abs(gaps - usual) <= 0.15 * usual)) >= EVEN_SHARE
        if even:
            return Timing("series", name, f"one row per {step.removeprefix('1 ')} in {name!r} "
                          f"({steps:,} steps): a time series", steps, step, key_is_date=True)
        return Timing("events", name, f"{name!r} holds a different time in most rows, but "
                      "at irregular intervals: events that carry a time, not a series of "
                      "steps", steps, step, key_is_date=True)
    per_time = rows / steps
    for entity, column in roles.items():
        if entity == name or column.role not in ("category", "identifier", "number"):
            continue
        if not 2 <= column.distinct <= rows / 2 or column.missing:
            continue
        if rows < PANEL_COVERAGE * column.distinct * steps:
            continue  # most entities missing at most times: not several series side by side
        pairs = frame.loc[times.index, [entity]].assign(_t=times.to_numpy())
        if 1 - pairs.duplicated().mean() >= PANEL_UNIQUE:
            return Timing("panel", name, f"{column.distinct:,} entities ({entity!r}) each "
                          f"observed once per time in {name!r} ({steps:,} times): a panel "
                          "of several series", steps, "", entity, key_is_date=True)
    return Timing("events", name, f"{per_time:,.1f} rows per time in {name!r} on average "
                  f"({rows:,} rows, {steps:,} times): a table of events that carry a time, "
                  "not a series", steps, "", key_is_date=True)


def _duration(seconds: float) -> str:
    """A time step in words: 30 minutes, 1 day, 1 month."""
    units = (("year", 365.25 * 86_400), ("quarter", 91.3 * 86_400), ("month", 30.44 * 86_400),
             ("week", 7 * 86_400), ("day", 86_400), ("hour", 3_600), ("minute", 60),
             ("second", 1))
    for unit, size in units:
        count = seconds / size
        if count >= 0.95 and abs(count - round(count)) <= 0.1 * max(round(count), 1):
            count = round(count)
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds:g} seconds"
