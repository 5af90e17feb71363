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

    def set(self, key: str, value: Any, source: str) -> None:
        self.values[key] = value
        self.sources[key] = source

    def merge(self, values: dict[str, Any], source: str | dict[str, str]) -> None:
        """Adds answers not given yet; a given answer always wins over a later one."""
        for key, value in values.items():
            if value is not None and self.values.get(key) is None:
                self.set(key, value, source if isinstance(source, str) else source[key])


def infer(answers: Answers, knowledge: Knowledge) -> None:
    """Answers that follow from others: many features per row suggest feature selection."""
    rows, features = answers.values.get("rows"), answers.values.get("features")
    if answers.values.get("feature_selection") is None and rows and features:
        many = features >= knowledge.thresholds["many_features_per_row"] * rows
        answers.set("feature_selection", many,
                    f"inferred: {features:,} features for {rows:,} rows is "
                    + ("many" if many else "few"))


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
                csv = shlex.quote(str(self.profile.path))
                run_dir = shlex.quote(f"runs/{recipe}-{self.profile.path.stem}")
                steps.append(f"advisor run {recipe} " + self.rule.csv_options.format(
                    csv=csv, target=shlex.quote(self.profile.target)) + f" --output {run_dir}")
                if catalog.get(recipe).predicts_rows:
                    steps.append(f"advisor predict {run_dir} --data {csv} "
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

    @property
    def checkable(self) -> bool:
        """A profiled table whose pick `advisor compare` can check on the file itself."""
        values = self.answers.values
        return self.profile is not None and values.get("data") == "tabular" and \
            values.get("goal") in ("predict-number", "predict-category")

    def compare_command(self) -> str:
        return (f"advisor compare --csv {shlex.quote(str(self.profile.path))} "
                f"--target {shlex.quote(self.profile.target)}")

    def notes(self) -> list[str]:
        notes = []
        if self.rule.recipe and not self.recipe_available:
            notes.append(f"The {self.rule.recipe} recipe is not in this version of "
                         "keras-recipes yet.")
        if self.profile is not None:
            notes += self.profile.notes
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
