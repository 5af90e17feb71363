"""How the advisor's results look in a terminal (rich). Plain text without colour reads the
same: nothing here depends on colour to make sense."""

from __future__ import annotations

from advisor.advice import Recommendation
from advisor.knowledge import Knowledge


def _bullets(items, style: str = "") -> list:
    """A list whose wrapped lines stay indented under their first."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column()
    for item in items:
        grid.add_row("-", Text(item, style=style))
    return [grid]


def recommendation(rec: Recommendation):
    """The recommendation panel: model, recipe, rule and answers, why, alternatives, metrics,
    next commands."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    rule = rec.rule
    knowledge = rec.knowledge
    parts = [
        Text.assemble(("Model:  ", "bold"), (rule.model, "bold green")),
        Text.assemble(("Recipe: ", "bold"), rec.status),
    ]
    if rule.estimator:
        parts.append(Text.assemble(("scikit-learn: ", "bold"), rule.estimator))
    parts += [
        Text(),
        Text.assemble(("Table row: ", "bold"), (rule.rule, "bold"), " (when ",
                      rule.describe_when(knowledge.by_key), ")"),
    ]
    answers = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    answers.add_column(style="cyan")
    answers.add_column()
    answers.add_column(style="dim")
    for key, value in rec.used_answers().items():
        source = rec.answers.sources.get(key, "")
        if rec.profile is not None and source.startswith("profile:"):
            source = "from the CSV profile"
        answers.add_row("  " + key.replace("_", "-"), knowledge.by_key[key].format(value),
                        source)
    parts += [Text("Your answers:", style="bold"), answers, Text()]
    parts += [Text("Why:", style="bold"), *_bullets(rule.why)]
    if rule.alternatives:
        parts += [Text("Alternatives:", style="bold"), *_bullets(rule.alternatives)]
    parts += [Text("Metrics to watch:", style="bold"), *_bullets(rule.metrics)]
    if notes := rec.notes():
        parts += [Text("Notes:", style="bold"), *_bullets(notes, "yellow")]
    return Panel(Group(*parts), title="Recommendation", title_align="left", expand=False)


def next_steps(console, rec: Recommendation) -> None:
    """The commands to run next, outside the panel and never wrapped, to copy and paste."""
    from rich.text import Text

    if steps := rec.next_steps():
        console.print(Text("Next:", style="bold"))
        for step in steps:
            console.print(Text.assemble("  " if step.startswith("http") else "  $ ",
                                        (step, "bold")), soft_wrap=True)


def profile(prof):
    """The CSV profile (what was found) and the answers it gave (and why)."""
    from rich.console import Group
    from rich.table import Table

    findings = Table(title=f"Profile of {prof.path.name} (target {prof.target!r})",
                     title_justify="left")
    findings.add_column("finding", style="cyan")
    findings.add_column("value")
    for name, value in prof.findings:
        findings.add_row(name, value)
    answers = Table(title="Answers from the data", title_justify="left")
    answers.add_column("question", style="cyan")
    answers.add_column("answer")
    answers.add_column("because")
    for key, value in prof.answers.items():
        shown = ("yes" if value else "no") if isinstance(value, bool) else (
            f"{value:,}" if isinstance(value, int) else str(value))
        answers.add_row(key.replace("_", "-"), shown, prof.because[key])
    return Group(findings, answers)


def decision_table(knowledge: Knowledge, available: set[str]):
    """The rules as a table; columns never break a word, so it reads in 80 columns."""
    from rich import box
    from rich.table import Table

    rows = []
    for number, rule in enumerate(knowledge.rules, start=1):
        if rule.recipe is None:
            recipe = "advice only"
        elif rule.recipe in available:
            recipe = rule.recipe
        else:
            recipe = f"{rule.recipe} *"
        rows.append((str(number), rule.rule, rule.describe_when(knowledge.by_key, compact=True),
                     rule.model, recipe))
    missing = any(row[-1].endswith(" *") for row in rows)
    table = Table(title="Which model to choose: the first row that fits wins",
                  title_justify="left", box=box.SIMPLE_HEAD, show_lines=True, pad_edge=False,
                  padding=(0, 0), collapse_padding=True,
                  caption="* not in this version of keras-recipes yet" if missing else None,
                  caption_justify="left")
    styles = {"use case": "bold", "model": "green"}
    for index, name in enumerate(("#", "use case", "when", "model", "recipe")):
        widest_word = max(len(word) for row in rows for word in row[index].split())
        table.add_column(name, justify="right" if name == "#" else "left",
                         style=styles.get(name), min_width=widest_word)
    for row in rows:
        table.add_row(*row)
    return table
