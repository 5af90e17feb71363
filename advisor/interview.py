"""The interactive interview: one question at a time, on stderr, only what still matters."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from advisor.knowledge import Knowledge, Question
from recipes.common import ExitStatus, RecipeError

UNSURE = ("not sure", "unsure", "?", "dont know", "don't know", "not known", "dk", "maybe")


class Unsure:
    """The answer "not sure" to a yes-no question."""


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompts():
    """rich's prompt classes, extended to take a number or an unambiguous prefix."""
    from rich.prompt import InvalidResponse, Prompt, PromptBase

    class ChoicePrompt(Prompt):
        def process_response(self, value: str) -> str:
            value = value.strip().lower()
            choices = list(self.choices or ())
            if value.isdigit() and 1 <= int(value) <= len(choices):
                return choices[int(value) - 1]
            matches = [c for c in choices if c.startswith(value)] if value else []
            if value in choices:
                return value
            if len(matches) == 1:
                return matches[0]
            raise InvalidResponse("[prompt.invalid.choice]Please type one of the choices "
                                  "or its number")

    class CountPrompt(PromptBase[int]):
        response_type = int
        minimum = 1

        def process_response(self, value: str) -> int:
            text = value.strip().replace(",", "").replace("_", "")
            try:
                number = int(text)
            except ValueError:
                raise InvalidResponse("[prompt.invalid]Please type a whole number") from None
            if number < self.minimum:
                raise InvalidResponse(f"[prompt.invalid]Please type {self.minimum} or more")
            return number

    class YesNoPrompt(PromptBase[bool]):
        response_type = bool
        choices = ["y", "n"]

        def render_default(self, default) -> Any:
            from rich.text import Text

            return Text(f"({'y' if default else 'n'})", "prompt.default")

        def process_response(self, value: str) -> bool:
            value = value.strip().lower()
            if value in ("y", "yes", "true", "1"):
                return True
            if value in ("n", "no", "false", "0"):
                return False
            if value in UNSURE or value.startswith("not sure"):
                return Unsure
            raise InvalidResponse("[prompt.invalid]Please type y, n or not sure")

    return ChoicePrompt, CountPrompt, YesNoPrompt


def ask(question: Question, console) -> Any:
    """Asks one question on the console (stderr) and returns the answer."""
    from rich.text import Text

    choice_prompt, count_prompt, yes_no_prompt = _prompts()
    default = question.default
    console.print()
    console.print(Text(question.text, style="bold"))
    console.print(Text(question.help, style="dim"))
    try:
        if question.kind == "choice":
            console.print(Text("  ".join(f"{i}) {c}" for i, c in
                                         enumerate(question.choices, start=1))))
            return choice_prompt.ask(question.key.replace("_", "-"), console=console,
                                     choices=list(question.choices), default=default,
                                     show_choices=False)
        if question.kind == "number":
            prompt = count_prompt(question.key.replace("_", "-"), console=console)
            prompt.minimum = question.min or 1
            return prompt(default=default)
        if question.unsure is not None:
            console.print(Text("y, n, or not sure", style="dim"))
        return yes_no_prompt.ask(question.key.replace("_", "-"), console=console,
                                 default=bool(default))
    except EOFError:
        raise RecipeError("the input ended before every question was answered",
                          hint=f"answer in a terminal, or give {question.option} as an option",
                          exit_code=ExitStatus.USAGE) from None


def ask_target(columns: list[str], console) -> str:
    from rich.prompt import Prompt
    from rich.text import Text

    console.print()
    console.print(Text("Which column should the model predict?", style="bold"))
    console.print(Text("the columns: " + ", ".join(columns), style="dim"))
    try:
        return Prompt.ask("target", console=console, choices=columns, default=columns[-1],
                          show_choices=False)
    except EOFError:
        raise RecipeError("the input ended before the target column was chosen",
                          hint="give it with --target COLUMN",
                          exit_code=ExitStatus.USAGE) from None


def ask_csv(console) -> Path | None:
    """Offers to read the user's CSV instead of asking: its path, or None for questions."""
    from rich.prompt import Prompt
    from rich.text import Text

    console.print()
    console.print(Text("Do you have a CSV of your data?", style="bold"))
    console.print(Text("give its path and the advisor answers the questions from the data; "
                       "press Enter to answer them yourself", style="dim"))
    while True:
        try:
            answer = Prompt.ask("csv", console=console, default="", show_default=False)
        except EOFError:
            console.print()
            return None
        answer = answer.strip().strip("'\"")
        if not answer:
            return None
        path = Path(answer).expanduser()
        if path.is_file():
            return path
        console.print(Text(f"no file {answer!r}: type its path, or press Enter",
                           style="prompt.invalid"))


def interview(knowledge: Knowledge, answers, console) -> None:
    """Asks, in order, each question that can still change the recommendation; after each
    answer, what follows from it is inferred and what still matters worked out again."""
    from advisor import advice

    while needed := knowledge.still_needed(answers.values):
        question = needed[0]
        value = ask(question, console)
        if value is Unsure:
            from rich.text import Text

            safer = question.default if question.unsure is None else question.unsure
            shown = question.format(safer)
            console.print(Text(question.how_to_tell or question.help, style="dim"))
            answers.set(question.key, safer, f"not sure: took {shown}, the safer answer")
            answers.notes.append(f"Not sure of \"{question.text}\": the advice takes "
                                 f"{shown}. {question.how_to_tell or question.help}")
        else:
            answers.set(question.key, value, "your answer")
        advice.infer(answers, knowledge)

