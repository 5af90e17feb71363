"""From answers to a recommendation: merge what the options, the CSV profile and the user
said, fill in what follows from it, and describe the rule that fits."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from advisor.knowledge import Knowledge, Rule
from recipes import catalog
from recipes.common import ExitStatus, RecipeError

SKLEARN_DOCS = "https://scikit-learn.org/stable/modules/generated/{}.html"


@dataclass
class Answers:
    """The answers so far, and where each came from (shown beside the recommendation)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said about the answers ("not sure")

    def set(self, key: str, value: Any, source: str) -> None:
        self.values[key] = value
        self.sources[key] = source

    def merge(self, values: dict[str, Any], source: str | dict[str, str]) -> None:
        """Adds answers not given yet; a given answer always wins over a later one."""
        for key, value in values.items():
            if value is not None and self.values.get(key) is None:
                self.set(key, value, source if isinstance(source, str) else source[key])


BYTES_PER_CELL = 8  # a float64 in memory


def infer(answers: Answers, knowledge: Knowledge, memory: int | None = None) -> None:
    """Answers that follow from others: many features per row suggest feature selection;
    rows x features numbers fit in memory when they take well under what is free (with the
    rows alone, when even `columns_if_unknown` columns would)."""
    rows, features = answers.values.get("rows"), answers.values.get("features")
    if answers.values.get("feature_selection") is None and rows and features:
        many = features >= knowledge.thresholds["many_features_per_row"] * rows
        answers.set("feature_selection", many,
                    f"inferred: {features:,} features for {rows:,} rows is "
                    + ("many" if many else "few"))
    if answers.values.get("fits_in_memory") is None and rows:
        from advisor.profile import available_memory, human_bytes

        memory = available_memory() if memory is None else memory
        columns = features + 1 if features else int(knowledge.thresholds["columns_if_unknown"])
        needed = rows * columns * BYTES_PER_CELL * knowledge.thresholds["memory_factor"]
        if memory is None or (not features and needed > memory):
            return  # without the columns, only a clear yes is inferred
        fits = needed <= memory
        shape = f"{rows:,} x {columns:,} numbers" if features else \
            f"{rows:,} rows, even of {columns:,} numbers each,"
        answers.set("fits_in_memory", fits, f"inferred: {shape} take about "
                                            f"{human_bytes(needed)} to train on, "
                                            f"{human_bytes(memory)} is free")


def missing_error(needed) -> RecipeError:
    options = ", ".join(q.option for q in needed)
    example = " ".join(_example(q) for q in needed[:3])
    return RecipeError(
        f"missing answers that decide the recommendation: {options}",
        hint=f"give them as options (for example `advisor recommend {example}`), "
             "or run `advisor recommend` in a terminal to be asked",
        exit_code=ExitStatus.USAGE,
    )


def _example(question) -> str:
    if question.kind == "yes-no":
        return f"--{question.key.replace('_', '-')}"
    value = question.choices[0] if question.kind == "choice" else question.default
    return f"--{question.key.replace('_', '-')} {value}"


@dataclass
class Recommendation:
    rule: Rule
    knowledge: Knowledge
    answers: Answers
    profile: Any = None  # advisor.profile.Profile when a CSV was given

    @property
    def recipe_available(self) -> bool:
        return self.rule.recipe is not None and catalog.get(self.rule.recipe) is not None

    @property
    def status(self) -> str:
        """One line on what you can run."""
        recipe = self.rule.recipe
        if recipe is None:
            return "none, advice only (no recipe in keras-recipes for this case)"
        if self.recipe_available:
            return f"{recipe} (ready to run)"
        return f"{recipe} (not in this version of keras-recipes yet)"

    def used_answers(self) -> dict[str, Any]:
        """The given answers, in the order the questions are asked."""
        order = [q.key for q in self.knowledge.questions]
        return {k: self.answers.values[k] for k in order if self.answers.values.get(k) is not None}

    def available_see_also(self) -> list[str]:
        return [name for name in self.rule.see_also if catalog.get(name) is not None]

    def next_steps(self) -> list[str]:
        steps = []
        recipe = self.rule.recipe
        if recipe and self.recipe_available:
            if self.profile is not None and self.rule.csv_options:
                steps.append(self.csv_command() + f" --output {self.run_dir()}")
                if catalog.get(recipe).predicts_rows:
                    steps.append(f"advisor predict {self.run_dir()} --data "
                                 f"{shlex.quote(str(self.profile.path))} "
                                 "--output predictions.csv")
            if self.checkable:
                steps.append(self.compare_command())
            steps += [f"advisor run {recipe}", f"advisor run {recipe} --help",
                      f"advisor copy {recipe} ./my-project"]
        if self.checkable and not (recipe and self.recipe_available):
            steps.append(self.compare_command())
        if self.rule.estimator and not self.recipe_available:
            steps += ["pip install scikit-learn", SKLEARN_DOCS.format(self.rule.estimator)]
        for name in self.available_see_also():
            steps.append(f"advisor run {name}")
        return steps

    def run_dir(self) -> str:
        """Where the suggested run writes, so that the predict command can name it."""
        return shlex.quote(f"runs/{self.rule.recipe}-{self.profile.path.stem}")

    def csv_command(self) -> str:
        """`advisor run RECIPE` on the profiled CSV: the time column of a dated series, and
        --drop for the probable leaks (identifiers and constants the recipes leave out by
        themselves), where the rule's csv_options take them."""
        timing, drop = self.profile.timing, self.profile.drop
        dated = timing is not None and timing.shape == "series" and timing.key_is_date
        return f"advisor run {self.rule.recipe} " + self.rule.csv_options.format(
            csv=shlex.quote(str(self.profile.path)), target=shlex.quote(self.profile.target),
            drop=f" --drop {shlex.quote(','.join(drop))}" if drop else "",
            time_col=f" --time-col {shlex.quote(timing.key)}" if dated else "")

    @property
    def checkable(self) -> bool:
        """A profiled table or series whose pick `advisor compare` can check on the file
        itself."""
        values = self.answers.values
        return self.profile is not None and values.get("data") == "tabular" and \
            values.get("goal") in ("predict-number", "predict-category", "forecast")

    def compare_command(self) -> str:
        return (f"advisor compare --csv {shlex.quote(str(self.profile.path))} "
                f"--target {shlex.quote(self.profile.target)}")

    def notes(self) -> list[str]:
        notes = list(self.answers.notes)
        if self.rule.recipe and not self.recipe_available:
            notes.append(f"The {self.rule.recipe} recipe is not in this version of "
                         "keras-recipes yet.")
        if self.profile is not None:
            notes += self.profile.notes
            command = self.csv_command() if self.recipe_available and self.rule.csv_options \
                else ""
            if self.profile.drop and "--drop" in command:
                notes.append(f"The suggested command leaves out {', '.join(self.profile.drop)} "
                             "with --drop: a probable leak is no feature.")
        return notes

    def to_json(self) -> dict[str, Any]:
        rule = self.rule
        data = {
            "model": rule.model,
            "recipe": rule.recipe,
            "recipe_available": self.recipe_available,
            "rule": rule.rule,
            "rule_id": rule.id,
            "when": rule.describe_when(self.knowledge.by_key),
            "why": list(rule.why),
            "alternatives": list(rule.alternatives),
            "see_also": list(rule.see_also),
            "metrics": list(rule.metrics),
            "estimator": rule.estimator,
            "answers": self.used_answers(),
            "answered_by": {k: self.answers.sources[k] for k in self.used_answers()},
            "next": self.next_steps(),
            "notes": self.notes(),
        }
        if self.profile is not None:
            data["profile"] = self.profile.to_json()
        return data


# --------------------------------------------------------------------------------------
# Saved answers: `recommend --save-answers FILE` and `recommend --answers FILE`
# --------------------------------------------------------------------------------------

ANSWERS_HEADER = """\
# Answers for `advisor recommend`, saved with --save-answers.
# Replay them with `advisor recommend --answers {name}`: the same answers give the same
# advice, for a colleague or a CI job. Options given beside --answers still win.
"""


def save_answers(path, answers: Answers, knowledge: Knowledge, csv=None,
                 target: str | None = None) -> None:
    """Writes the answers and where each came from as TOML (by hand: a few plain values)."""
    from pathlib import Path

    path = Path(path)
    lines = [ANSWERS_HEADER.format(name=shlex.quote(path.name))]
    if csv is not None:
        lines += ["# The CSV profiled: replaying profiles it again, for the notes and the "
                  "command to run.", f"csv = {_toml(str(csv))}", f"target = {_toml(target)}", ""]
    order = [q.key for q in knowledge.questions if answers.values.get(q.key) is not None]
    lines.append("[answers]")
    lines += [f"{key} = {_toml(answers.values[key])}" for key in order]
    lines += ["", "[sources]  # where each answer came from"]
    lines += [f"{key} = {_toml(answers.sources.get(key, ''))}" for key in order]
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise RecipeError(f"cannot write {path}: {error.strerror or error}",
                          hint="give --save-answers a file in a folder you can write to"
                          ) from None


def _toml(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def load_answers(path, knowledge: Knowledge) -> tuple[dict, dict, str | None, str | None]:
    """The answers saved in a file: (values, sources, csv, target), each value checked."""
    from pathlib import Path

    from advisor.knowledge import tomllib

    path = Path(path)
    hint = "write the file with `advisor recommend --save-answers FILE`"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise RecipeError(f"no such file: {path}", hint=hint, exit_code=ExitStatus.USAGE
                          ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RecipeError(f"{path} is not a TOML file of answers ({error})", hint=hint,
                          exit_code=ExitStatus.USAGE) from None
    given = data.get("answers", {})
    sources = data.get("sources", {})
    if not isinstance(given, dict) or not isinstance(sources, dict):
        raise RecipeError(f"{path}: [answers] must be a table", hint=hint,
                          exit_code=ExitStatus.USAGE)
    values = {}
    for key, value in given.items():
        question = knowledge.by_key.get(key)
        if question is None:
            raise RecipeError(f"{path}: unknown answer {key!r}",
                              hint="the answers are: " + ", ".join(knowledge.by_key),
                              exit_code=ExitStatus.USAGE)
        if not _valid(question, value):
            raise RecipeError(f"{path}: {key} = {value!r} is not an answer to "
                              f"{question.text!r}", hint=_expected(question),
                              exit_code=ExitStatus.USAGE)
        values[key] = value
    saved = {key: f"saved in {path.name}" + (f" ({sources[key]})" if sources.get(key) else "")
             for key in values}
    csv, target = data.get("csv"), data.get("target")
    if csv is not None and not isinstance(csv, str) or \
            target is not None and not isinstance(target, str):
        raise RecipeError(f"{path}: csv and target must be strings", hint=hint,
                          exit_code=ExitStatus.USAGE)
    return values, saved, csv, target


def _valid(question, value: Any) -> bool:
    if question.kind == "yes-no":
        return isinstance(value, bool)
    if question.kind == "number":
        return isinstance(value, int) and not isinstance(value, bool) and \
            value >= (question.min or 1)
    return value in question.choices


def _expected(question) -> str:
    if question.kind == "yes-no":
        return "give true or false"
    if question.kind == "number":
        return f"give a whole number, {question.min or 1} or more"
    return "give one of: " + ", ".join(question.choices)
