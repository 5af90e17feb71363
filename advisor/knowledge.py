"""Reads the questions and the decision table from rules.toml and applies them.

Everything the advisor knows lives in rules.toml. This module only parses it, matches
answers against the rules (first match wins), and works out which questions can still
change the outcome, so that the advisor asks (or demands) only those.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RULES_FILE = Path(__file__).with_name("rules.toml")

Answers = Mapping[str, Any]

_COMPARISON = re.compile(r"^\s*(<=|>=|<|>|==)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
              "==": operator.eq}


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # "choice", "number" or "yes-no"
    text: str
    help: str
    default: Any
    choices: tuple[str, ...] = ()
    min: int | None = None
    unsure: Any = None  # yes-no: the safer answer taken on "not sure"
    how_to_tell: str = ""  # yes-no: said on "not sure"

    @property
    def option(self) -> str:
        """The command-line option that answers it: --goal, --fits-in-memory/--no-..."""
        name = self.key.replace("_", "-")
        return f"--{name}/--no-{name}" if self.kind == "yes-no" else f"--{name}"

    def format(self, value: Any) -> str:
        if self.kind == "yes-no":
            return "yes" if value else "no"
        if self.kind == "number":
            return f"{value:,}"
        return str(value)


@dataclass(frozen=True)
class Rule:
    id: str
    rule: str
    model: str
    when: Mapping[str, Any]
    why: tuple[str, ...]
    alternatives: tuple[str, ...]
    metrics: tuple[str, ...]
    when_any: tuple[Mapping[str, Any], ...] = ()
    recipe: str | None = None
    estimator: str | None = None
    see_also: tuple[str, ...] = ()
    csv_options: str | None = None  # "--data {csv} --target {target}" for the recipe

    def matches(self, answers: Answers) -> bool:
        return _all_hold(self.when, answers) and (
            not self.when_any or any(_all_hold(c, answers) for c in self.when_any))

    def keys(self) -> set[str]:
        """The answers this rule looks at."""
        return set(self.when).union(*(set(c) for c in self.when_any))

    def describe_when(self, questions: Mapping[str, Question], compact: bool = False) -> str:
        """`goal = predict-number and data = tabular`, or compact: `predict-number, tabular`."""
        joiner = ", " if compact else " and "
        text = joiner.join(_describe(self.when, questions, compact))
        if self.when_any:
            alternatives = " or ".join(joiner.join(_describe(c, questions, compact))
                                       for c in self.when_any)
            text += f"{joiner}({alternatives})" if len(self.when_any) > 1 else \
                f"{joiner}{alternatives}"
        return text


@dataclass(frozen=True, eq=False)  # hashed by identity: decisions are cached per table
class Knowledge:
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    thresholds: Mapping[str, float]
    demos: tuple[Mapping[str, Any], ...] = field(default=())

    @functools.cached_property
    def by_key(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions}

    def decide(self, answers: Answers) -> Rule | None:
        """The first rule whose conditions hold, or None."""
        return _decide(self, _frozen(answers))

    def values(self, key: str) -> list[Any]:
        """Every value worth trying for one question: its choices, yes and no, or for a
        number one value on each side of every threshold the rules compare it with."""
        return self._values[key]

    @functools.cached_property
    def _values(self) -> dict[str, list[Any]]:
        table = {}
        for question in self.questions:
            if question.kind == "choice":
                table[question.key] = list(question.choices)
                continue
            if question.kind == "yes-no":
                table[question.key] = [True, False]
                continue
            lowest = question.min if question.min is not None else 0
            points = {lowest}
            for rule in self.rules:
                for conditions in (rule.when, *rule.when_any):
                    for number in _numbers_in(conditions.get(question.key)):
                        points.update({number - 1, number, number + 1})
            table[question.key] = sorted(int(p) for p in points if p >= lowest)
        return table

    @functools.cached_property
    def relevant(self) -> tuple[str, ...]:
        """The questions some rule looks at, in the order they are asked."""
        used = set().union(*(rule.keys() for rule in self.rules))
        return tuple(q.key for q in self.questions if q.key in used)

    def completions(self, answers: Answers, leave_out: str | None = None
                    ) -> Iterator[dict[str, Any]]:
        """Every way to fill in the missing answers (numbers by their buckets), except
        `leave_out`."""
        missing = [k for k in self.relevant if answers.get(k) is None and k != leave_out]
        for combo in itertools.product(*(self.values(k) for k in missing)):
            yield {**answers, **dict(zip(missing, combo, strict=True))}

    def outcomes(self, answers: Answers) -> set[str | None]:
        """The rules the answers can still lead to (None: no rule fits some completion)."""
        return {getattr(self.decide(c), "id", None) for c in self.completions(answers)}

    def matters(self, key: str, answers: Answers) -> bool:
        """Whether answering `key` can still change the recommendation: for some way of
        filling in the other missing answers, two of its values lead to different rules."""
        if answers.get(key) is not None or key not in self.relevant:
            return False
        for completion in self.completions(answers, leave_out=key):
            seen = {getattr(self.decide({**completion, key: v}), "id", None)
                    for v in self.values(key)}
            if len(seen) > 1:
                return True
        return False

    def still_needed(self, answers: Answers) -> list[Question]:
        """The unanswered questions that can still change the recommendation, in order."""
        return [q for q in self.questions if self.matters(q.key, answers)]

    def settled(self, answers: Answers) -> Rule | None:
        """The recommendation if the answers given already decide it, else None."""
        outcomes = self.outcomes(answers)
        if len(outcomes) == 1 and None not in outcomes:
            return self.decide(next(self.completions(answers)))
        return None


@functools.lru_cache(maxsize=65536)
def _decide(knowledge: Knowledge, answers: tuple) -> Rule | None:
    given = dict(answers)
    return next((rule for rule in knowledge.rules if rule.matches(given)), None)


def _frozen(answers: Answers) -> tuple:
    return tuple(sorted((k, v) for k, v in answers.items() if v is not None))


def _holds(expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    if isinstance(expected, list):
        return actual in expected
    if isinstance(expected, str) and (match := _COMPARISON.match(expected)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False
        return _OPERATORS[match[1]](actual, float(match[2]))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return expected == actual


def _all_hold(conditions: Mapping[str, Any], answers: Answers) -> bool:
    return all(_holds(expected, answers.get(key)) for key, expected in conditions.items())


def _numbers_in(expected: Any) -> Iterable[float]:
    if expected is None or isinstance(expected, bool):
        return []
    if isinstance(expected, (int, float)):
        return [expected]
    if isinstance(expected, str) and (match := _COMPARISON.match(expected)):
        return [float(match[2])]
    return []


def _describe(conditions: Mapping[str, Any], questions: Mapping[str, Question],
              compact: bool = False) -> list[str]:
    parts = []
    for key, expected in conditions.items():
        name = key.replace("_", "-")
        question = questions.get(key)
        kind = question.kind if question is not None else None
        if compact and kind == "choice":
            parts.append(" or ".join(expected) if isinstance(expected, list) else expected)
        elif compact and kind == "yes-no":
            parts.append(name if expected else f"no {name}")
        elif isinstance(expected, list):
            parts.append(f"{name} is {' or '.join(map(str, expected))}")
        elif isinstance(expected, str) and (match := _COMPARISON.match(expected)):
            number = float(match[2])
            shown = f"{int(number):,}" if number.is_integer() else str(number)
            parts.append(f"{name} {match[1]} {shown}")
        elif question is not None:
            parts.append(f"{name} = {question.format(expected)}")
        else:
            parts.append(f"{name} = {expected}")
    return parts


def _check(data: dict) -> None:
    """Catches slips in rules.toml early, with the place to look."""
    keys = {q["key"] for q in data["questions"]}
    for rule in data["rules"]:
        for conditions in (rule["when"], *rule.get("when_any", [])):
            unknown = set(conditions) - keys
            if unknown:
                raise ValueError(f"rules.toml: rule {rule['id']!r} asks about unknown "
                                 f"answers {sorted(unknown)}")


@functools.lru_cache(maxsize=4)
def load(path: Path = RULES_FILE) -> Knowledge:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    _check(data)
    questions = tuple(
        Question(key=q["key"], kind=q["kind"], text=q["text"], help=q["help"],
                 default=q.get("default"), choices=tuple(q.get("choices", ())),
                 min=q.get("min"), unsure=q.get("unsure"), how_to_tell=q.get("how_to_tell", ""))
        for q in data["questions"]
    )
    rules = tuple(
        Rule(id=r["id"], rule=r["rule"], model=r["model"], when=dict(r["when"]),
             when_any=tuple(dict(c) for c in r.get("when_any", ())),
             recipe=r.get("recipe"), estimator=r.get("estimator"),
             why=tuple(r["why"]), alternatives=tuple(r.get("alternatives", ())),
             metrics=tuple(r.get("metrics", ())), see_also=tuple(r.get("see_also", ())),
             csv_options=r.get("csv_options"))
        for r in data["rules"]
    )
    return Knowledge(questions=questions, rules=rules, thresholds=dict(data["thresholds"]),
                     demos=tuple(data.get("demo", ())))
