"""The `advisor` command line (Typer). One function per command; the knowledge lives in data
(rules.toml), the work in the modules beside this one.

Data (tables, JSON, source code) goes to stdout; prompts, progress and errors to stderr. An
error is one line and a `hint:` line, with exit code 1 (failure), 2 (usage) or 130
(interrupted). Nothing here imports TensorFlow or Keras until a recipe runs.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from advisor import knowledge as knowledge_module
from recipes import catalog
from recipes.common import ExitStatus, RecipeError, own_error, report_error


class AdvisorGroup(TyperGroup):
    """Typer's group, with usage mistakes reported as `error:` and `hint:` lines."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
            code = result if isinstance(result, int) else ExitStatus.OK
        except (KeyboardInterrupt, typer.Abort):
            print("interrupted", file=sys.stderr)
            code = ExitStatus.INTERRUPTED
        except Exception as error:  # click's UsageError and friends, whichever click it is
            if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
                raise
            if type(error).__name__ == "NoArgsIsHelpError":
                error.show()
            else:
                context = getattr(error, "ctx", None)
                command = context.command_path if context is not None else "advisor"
                report_error(RecipeError(error.format_message(),
                                         hint=f"run `{command} --help` to see the options"))
            code = error.exit_code
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="advisor",
    cls=AdvisorGroup,
    help="Find the right model for your problem, and run or copy a Keras recipe that already "
         "works.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def fail(error: RecipeError) -> None:
    report_error(error)
    raise typer.Exit(error.exit_code)


def handles_errors(command):
    """User mistakes become `error:`/`hint:` lines; Ctrl-C becomes exit code 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RecipeError as error:
            fail(error)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(ExitStatus.INTERRUPTED) from None
        except Exception as error:  # a recipe file's own RecipeError (linear_family's)
            own = own_error(error)
            if own is None:
                raise
            fail(own)

    return wrapper


def lookup(name: str) -> catalog.RecipeInfo:
    info = catalog.get(name)
    if info is None:
        close = difflib.get_close_matches(name, catalog.names(), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        fail(RecipeError(f"unknown recipe {name!r}",
                         hint=f"{hint}run `advisor list` to see every recipe",
                         exit_code=ExitStatus.USAGE))
    return info


def complete_recipe(incomplete: str) -> list[str]:
    return [name for name in catalog.names() if name.startswith(incomplete)]


def stdout_console():
    from rich.console import Console

    return Console()


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def reading_bar(path: Path):
    """A bar on stderr while a large file is read in chunks, in a terminal (elsewhere
    nothing): yields `update(bytes read, file size)`. The bar starts after the first chunk
    if more are to come, so a file read in one never flashes one."""
    console = stderr_console()
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = Progress(f"reading {path.name}", BarColumn(), DownloadColumn(),
                   TimeRemainingColumn(), console=console, transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            if done >= total:  # read in one chunk: nothing to show
                return
            bar.start()
            task = bar.add_task("read", total=total)
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        bar.stop()


def _choices(key: str) -> type[enum.Enum]:
    """A str Enum of one question's choices, read from rules.toml (single source)."""
    question = knowledge_module.load().by_key[key]
    return enum.Enum(key.title(), {c.replace("-", "_"): c for c in question.choices}, type=str)


Goal = _choices("goal")
DataKind = _choices("data")


# --------------------------------------------------------------------------------------
# list, show, run
# --------------------------------------------------------------------------------------


@app.command("list")
def list_recipes(
    as_json: bool = typer.Option(False, "--json", help="print a JSON list on stdout"),
) -> None:
    """List every recipe with a one-line description."""
    if as_json:
        print(json.dumps([{"name": r.name, "description": r.description, "task": r.task,
                           "module": r.module, "data": r.data} for r in catalog.RECIPES],
                         indent=2))
        return
    from rich.table import Table

    table = Table(title="Recipes")
    table.add_column("name", style="bold")
    table.add_column("task")
    table.add_column("description")
    for recipe in catalog.RECIPES:
        table.add_row(recipe.name, recipe.task, recipe.description)
    stdout_console().print(table)


@app.command()
@handles_errors
def show(
    name: str = typer.Argument(..., help="recipe name (see `advisor list`)",
                               autocompletion=complete_recipe, show_default=False),
    path_only: bool = typer.Option(False, "--path", help="print only where the source is"),
) -> None:
    """Show a recipe's source code (syntax-highlighted in a terminal)."""
    info = lookup(name)
    spec = importlib.util.find_spec(info.module)
    if spec is None or spec.origin is None:
        raise RecipeError(f"the source of {name} ({info.module}) is missing",
                          hint="reinstall keras-recipes")
    path = Path(spec.origin)
    if path_only:
        print(path)
        return
    source = path.read_text(encoding="utf-8")
    console = stdout_console()
    if not console.is_terminal:  # piped: the file exactly as it is
        sys.stdout.write(source)
        return
    from rich.syntax import Syntax

    console.print(Syntax(source, "python", line_numbers=True, word_wrap=False))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                      "help_option_names": []},
)
def run(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="recipe name (see `advisor list`)", show_default=False,
                               autocompletion=complete_recipe),
) -> None:
    """Run a recipe: `advisor run NAME [OPTIONS]...` (`advisor run NAME --help` lists them)."""
    if name is None or name in ("--help", "-h"):
        typer.echo(ctx.get_help())
        raise typer.Exit(ExitStatus.OK if name else ExitStatus.USAGE)
    info = lookup(name)
    from recipes import runner

    raise typer.Exit(runner.run(info.name, list(ctx.args)))


# --------------------------------------------------------------------------------------
# recommend, table
# --------------------------------------------------------------------------------------


# The answers recommend and compare both take as options, defined once.
ClassesOption = Annotated[int, typer.Option(
    min=2, help="how many categories, for predict-category", show_default=False)]
OutliersOption = Annotated[bool, typer.Option(
    "--outliers/--no-outliers", help="the value to predict has outliers", show_default=False)]
FeatureSelectionOption = Annotated[bool, typer.Option(
    "--feature-selection/--no-feature-selection",
    help="the model should pick the features that matter", show_default=False)]
FitsInMemoryOption = Annotated[bool, typer.Option(
    "--fits-in-memory/--no-fits-in-memory", help="the whole data set fits in memory",
    show_default=False)]
TargetOption = Annotated[str, typer.Option(help="the CSV column to predict",
                                           show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def build_recommendation(explicit: dict, csv: Path | None, target: str | None,
                         interactive: bool, answers_file: Path | None = None):
    """Options first, then saved answers, then what the CSV shows, then what follows; asks
    (or demands) the rest. In a terminal with nothing given, it first offers to read a CSV."""
    from advisor import advice, interview

    knowledge = knowledge_module.load()
    answers = advice.Answers()
    answers.merge(explicit, "option")
    if answers_file is not None:
        saved, sources, saved_csv, saved_target = advice.load_answers(answers_file, knowledge)
        answers.merge(saved, sources)
        if csv is None and saved_csv is not None:
            csv, target = Path(saved_csv), target or saved_target
    prof = None
    if target is not None and csv is None:
        raise RecipeError("--target needs --csv FILE", hint="give the CSV to profile with --csv",
                          exit_code=ExitStatus.USAGE)
    if csv is None and interactive and not answers.values:
        csv = interview.ask_csv(stderr_console())
    if csv is not None:
        from advisor import profile

        if target is None:
            columns = profile.read_header(csv)
            if not interactive:
                raise profile.missing_target_error(csv, None, columns)
            target = interview.ask_target(columns, stderr_console())
        with reading_bar(csv) as progress:
            prof = profile.profile_csv(csv, target, knowledge.thresholds,
                                       progress=progress)
        answers.merge(prof.answers, {k: f"profile: {v}" for k, v in prof.because.items()})
    advice.infer(answers, knowledge)
    if interactive:
        interview.interview(knowledge, answers, stderr_console())
    needed = knowledge.still_needed(answers.values)
    if needed:
        raise advice.missing_error(needed)
    rule = knowledge.settled(answers.values)
    if rule is None:
        raise RecipeError("no rule in the decision table fits these answers",
                          hint="this is a gap in advisor/rules.toml: please report it")
    return advice.Recommendation(rule=rule, knowledge=knowledge, answers=answers, profile=prof)


@app.command()
@handles_errors
def recommend(
    goal: Goal = typer.Option(None, help="what the model should do", show_default=False),
    data: DataKind = typer.Option(None, help="what the data looks like", show_default=False),
    rows: int = typer.Option(None, min=1, help="about how many rows (examples)",
                             show_default=False),
    features: int = typer.Option(None, min=1, help="how many feature columns",
                                 show_default=False),
    classes: ClassesOption = None,
    outliers: OutliersOption = None,
    feature_selection: FeatureSelectionOption = None,
    fits_in_memory: FitsInMemoryOption = None,
    csv: Path = typer.Option(None, help="profile this CSV and answer from it",
                             show_default=False, dir_okay=True),
    target: TargetOption = None,
    answers: Path = typer.Option(None, "--answers", metavar="FILE", show_default=False,
                                 help="replay answers saved with --save-answers"),
    save_answers: Path = typer.Option(None, "--save-answers", metavar="FILE",
                                      show_default=False,
                                      help="write the answers, and where each came from, to "
                                           "FILE (TOML) to replay with --answers"),
    as_json: JsonOption = False,
    interactive: bool = typer.Option(
        None, "--interactive/--no-interactive",
        help="ask for missing answers  [default: when stdin is a terminal]",
        show_default=False),
) -> None:
    """Recommend a model and a recipe: asks what it needs in a terminal, or takes options.

    Every answer can be an option; with --csv FILE --target COLUMN the file answers the
    questions it can (options given still win). Without a terminal, missing answers that
    matter are a usage error listing them. --save-answers FILE keeps the answers for
    --answers FILE to give the same advice again.
    """
    from advisor import advice, interview, render

    if interactive is None:
        interactive = interview.stdin_is_terminal()
    explicit = {"goal": goal.value if goal else None, "data": data.value if data else None,
                "rows": rows, "features": features, "classes": classes, "outliers": outliers,
                "feature_selection": feature_selection, "fits_in_memory": fits_in_memory}
    rec = build_recommendation(explicit, csv, target, interactive, answers)
    if save_answers is not None:
        advice.save_answers(save_answers, rec.answers, rec.knowledge,
                            rec.profile.path if rec.profile is not None else None,
                            rec.profile.target if rec.profile is not None else None)
        print(f"saved the answers to {save_answers}; replay them with "
              f"`advisor recommend --answers {save_answers}`", file=sys.stderr)
    if as_json:
        print(json.dumps(rec.to_json(), indent=2, ensure_ascii=False))
        return
    console = stdout_console()
    if rec.profile is not None:
        console.print(render.profile(rec.profile))
    console.print(render.recommendation(rec))
    render.next_steps(console, rec)


@app.command()
def table(
    as_json: bool = typer.Option(False, "--json", help="print the rules as a JSON list"),
) -> None:
    """Show the decision table: which model for which use case, and why."""
    from advisor import render

    knowledge = knowledge_module.load()
    if as_json:
        print(json.dumps([{"rule": r.rule, "id": r.id,
                           "when": r.describe_when(knowledge.by_key), "model": r.model,
                           "recipe": r.recipe,
                           "recipe_available": catalog.get(r.recipe or "") is not None,
                           "estimator": r.estimator, "why": list(r.why),
                           "alternatives": list(r.alternatives), "metrics": list(r.metrics)}
                          for r in knowledge.rules], indent=2, ensure_ascii=False))
        return
    stdout_console().print(render.decision_table(knowledge, set(catalog.names())))


# --------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------


@app.command()
@handles_errors
def compare(
    csv: Path = typer.Option(None, help="the CSV to check the recommendation on",
                             show_default=False),
    target: TargetOption = None,
    budget: float = typer.Option(120.0, min=1, help="seconds to spend; models that would not "
                                 "finish in the time left are skipped and listed"),
    folds: int = typer.Option(5, min=2, max=20, help="cross-validation folds (tables of more "
                              "than 20,000 rows get one holdout split of a sample instead; "
                              "a series, expanding windows in time order)"),
    seed: int = typer.Option(0, help="seed of the folds and of the seeded models"),
    as_json: JsonOption = False,
    output: Path = typer.Option(None, "--output", "-o", help="folder for compare.json, "
                                "leaderboard.csv and scores.png, written as each model "
                                "finishes  [default: runs/compare-<file>-<time>]",
                                show_default=False),
    resume: Path = typer.Option(None, "--resume", help="continue an interrupted or "
                                "over-budget comparison in this folder, keeping its finished "
                                "models", show_default=False),
    goal: Goal = typer.Option(None, help="what the model should do (overrides the profile)",
                              show_default=False),
    classes: ClassesOption = None,
    outliers: OutliersOption = None,
    feature_selection: FeatureSelectionOption = None,
    fits_in_memory: FitsInMemoryOption = None,
) -> None:
    """Check the recommendation on your own table or series: a cross-validated leaderboard
    of the table's pick, its alternatives, a gradient-boosted tree and a trivial baseline
    (naive forecasts for a series), and a verdict.

    Profiles --csv and recommends exactly as `advisor recommend --csv` does (answers given as
    options win), then scores every model on the same folds within --budget seconds.
    """
    import time

    from advisor import compare as comparing

    started = time.monotonic()
    explicit = {"goal": goal.value if goal else None, "classes": classes,
                "outliers": outliers, "feature_selection": feature_selection,
                "fits_in_memory": fits_in_memory}
    saved = None
    if resume is not None:
        saved = comparing.load_saved(resume)
        options = saved.get("options", {})
        csv = csv or Path(options["csv"])
        target = target or options["target"]
        folds, seed = options.get("folds", folds), options.get("seed", seed)
        explicit = {**options.get("explicit", {}),
                    **{k: v for k, v in explicit.items() if v is not None}}
        if output is not None and output != resume:
            fail(RecipeError("--resume continues in its own folder: leave out --output",
                             hint=f"advisor compare --resume {resume}",
                             exit_code=ExitStatus.USAGE))
        output = resume
    if csv is None or target is None:
        fail(RecipeError("compare needs --csv FILE and --target COLUMN",
                         hint="advisor compare --csv data.csv --target price",
                         exit_code=ExitStatus.USAGE))
    rec = build_recommendation(explicit, csv, target, interactive=False)
    task = comparing.task_of(rec)
    with reading_bar(csv) as progress:
        table_data, split, table_info = comparing.prepare(csv, target, rec, task, folds,
                                                          seed, progress)
    metric = comparing.main_metric(task, rec.rule)
    entries, notes = comparing.candidates(rec, task)
    options = {"csv": str(csv), "target": target, "folds": folds, "seed": seed,
               "budget": budget, "explicit": {k: v for k, v in explicit.items()
                                              if v is not None}}
    comparison = comparing.Comparison(options, task, metric, entries[0], split, entries,
                                      notes=notes, table_info=table_info)
    if saved is not None:
        if saved.get("folds_fingerprint") != split.fingerprint:
            fail(RecipeError(f"{csv} or the folds changed since {resume} was started",
                             hint="start a new comparison with another --output"))
        comparison.results = [comparing.Result.from_json(entry)
                              for entry in saved.get("leaderboard", [])
                              if any(c.name == entry["model"] for c in entries)]
    from recipes.common import RunDir, default_run_dir

    folder = Path(output) if output is not None else default_run_dir(f"compare-{csv.stem}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(RecipeError(f"cannot write to {folder}: {error.strerror}",
                         hint="choose a writable --output folder"))
    run_dir = RunDir(folder)
    reporter = comparing.Reporter()
    reporter.say(f"the table's pick: {rec.rule.model}"
                 + (f" ({rec.rule.recipe} recipe)" if rec.rule.recipe else "")
                 + f", rule {rec.rule.rule!r}")
    for note in notes:
        reporter.say(f"note: {note}")
    if saved is not None:
        reporter.say(f"resuming {folder}: {len(comparison.results)} finished model(s) kept")
    try:
        comparing.run(comparison, table_data, budget, run_dir, reporter, start=started)
    except KeyboardInterrupt:
        print(f"interrupted: {len(comparison.results)} finished model(s) kept in {folder}; "
              f"continue with `advisor compare --resume {folder}`", file=sys.stderr)
        raise typer.Exit(ExitStatus.INTERRUPTED) from None
    if as_json:
        print(json.dumps(comparison.to_json(), indent=2, ensure_ascii=False))
    else:
        comparing.render(stdout_console(), comparison)
    print(f"wrote {folder}/ ({comparing.JSON_FILE}, {comparing.CSV_FILE}, "
          f"{comparing.PLOT_FILE})", file=sys.stderr)


# --------------------------------------------------------------------------------------
# copy
# --------------------------------------------------------------------------------------


@app.command()
@handles_errors
def copy(
    name: str = typer.Argument(..., help="recipe name (see `advisor list`)",
                               autocompletion=complete_recipe, show_default=False),
    dest: Path = typer.Argument(..., help="folder to copy into (created if missing)",
                                show_default=False),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="replace files that exist and differ"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would be written, write "
                                                          "nothing"),
    show_diff: bool = typer.Option(False, "--diff", help="show how existing files would change"),
    with_runner: bool = typer.Option(False, "--with-runner", help="add the runner, for "
                                     "checkpoints, --resume, run directories and strategies"),
) -> None:
    """Copy a recipe, the project modules it imports and its sample data into DEST, so that it
    runs there without keras-recipes installed. Prints the `pip install` line it needs."""
    from advisor import copier

    info = lookup(name)
    copier.check_destination(dest)
    files = copier.plan(info, dest, with_runner)
    if show_diff:
        for planned in files:
            if text := copier.diff(planned):
                sys.stdout.write(text)
    if dry_run:
        labels = {"new": "would write", "same": "unchanged",
                  "differs": "would overwrite" if overwrite else "exists, differs (skipped "
                                                                 "without --overwrite)"}
        for planned in files:
            print(f"{labels[planned.state]:<12} {planned.dest}  (from {planned.source})")
    else:
        written = copier.write(files, overwrite)
        for planned in files:
            label = "wrote" if planned in written else "unchanged"
            print(f"{label:<9} {planned.dest}  (from {planned.source})")
    entry = copier.target_name(info.module, info.module)
    print()
    print("Install what it needs:")
    print(f"  {copier.pip_line(info, with_runner)}")
    print("Then run it there:")
    print(f"  cd {dest} && python {entry}.py --help")
    if info.on_runner and with_runner:
        runner = copier.target_name(copier.RUNNER, info.module)
        print("or through the runner (checkpoints, --resume, run directories, strategies):")
        print(f"  cd {dest} && python {runner}.py {info.name} --help")


# --------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------


@app.command()
@handles_errors
def predict(
    run_dir: Path = typer.Argument(..., help="the folder a finished training run wrote",
                                   show_default=False),
    data: str = typer.Option(None, "--data", help="the new data: a CSV of rows for a table "
                             "model (columns in any order, extra columns ignored); an .npz with "
                             "`x` or a folder of PNG/JPEG files for an image classifier; a CSV "
                             "of recent history for a forecaster", show_default=False),
    output: Path = typer.Option(None, "--output", "-o", help="write the predictions to this "
                                "CSV file (default: CSV on stdout)", show_default=False),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace --output if it exists"),
    as_json: bool = typer.Option(False, "--json", help="print the predictions as JSON records "
                                 "(with --output: a JSON summary of what was written)"),
) -> None:
    """Predict new data with a finished run: `advisor predict RUN_DIR --data FILE`.

    A table model returns the input rows with a `prediction` column added (classifiers also
    a probability per class, named by label).

    An image classifier returns one row per image: its label and probabilities. A forecaster
    returns the steps after the history, up to its horizon, with their times."""
    from advisor import predictions

    if data is None:
        fail(RecipeError("predict needs --data: the new rows to predict",
                         hint=f"advisor predict {run_dir} --data new.csv",
                         exit_code=ExitStatus.USAGE))
    if output is not None and output.exists() and not overwrite:
        fail(RecipeError(f"{output} exists", hint="choose another --output, or add --overwrite",
                         exit_code=ExitStatus.USAGE))
    info, frame = predictions.predict(run_dir, data)
    predictions.write(frame, output, as_json=as_json, overwrite=overwrite)
    if output is not None:
        print(f"wrote {output}: {len(frame):,} prediction(s) from {info.name} run {run_dir}",
              file=sys.stderr)


# --------------------------------------------------------------------------------------
# demo (what `make run` shows without a terminal)
# --------------------------------------------------------------------------------------


@app.command()
@handles_errors
def demo() -> None:
    """A scripted example: one use case, its recommendation, and a short training run of the
    recipe on the shipped sample, ending with its metrics."""
    from advisor import render
    from recipes.data import datasets_dir

    knowledge = knowledge_module.load()
    console = stdout_console()
    for case in knowledge.demos:
        if case.get("csv"):
            csv_path = datasets_dir() / case["csv"]
            rec = build_recommendation({}, csv_path, case["target"], interactive=False)
        else:
            rec = build_recommendation(dict(case["answers"]), None, None, interactive=False)
        candidates = [rec.rule.recipe, *rec.rule.see_also] if rec.rule.recipe else \
            list(rec.rule.see_also)
        runnable = [name for name in candidates if name and catalog.get(name)]
        if not runnable:
            continue
        recipe = runnable[0]
        console.rule("Example use case")
        console.print(case["story"])
        if rec.profile is not None:
            console.print(render.profile(rec.profile))
        console.print(render.recommendation(rec))
        if recipe != rec.rule.recipe:
            console.print(f"{rec.rule.recipe} is not in this version yet, so the demo trains "
                          f"the recipe the table names beside it: {recipe}.")
        args = list(case.get("args", {}).get(recipe, []))
        if not sys.stderr.isatty():
            args.append("--quiet")  # no progress bar where nobody watches it move
        console.rule(f"advisor run {recipe} {' '.join(args)}".strip())
        sys.stdout.flush()
        from recipes import runner

        raise typer.Exit(runner.run(recipe, args))
    raise RecipeError("no demo case has a recipe in this version",
                      hint="add a [[demo]] case to advisor/rules.toml")


# --------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON on stdout"),
) -> None:
    """Check this machine: versions, GPUs, mixed precision, XLA, cached datasets."""
    from advisor import doctor as checks

    report = checks.collect()
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        checks.render(report)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                      "help_option_names": []},
)
def generate(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="a generative recipe, e.g. conditional-gan",
                               show_default=False),
) -> None:
    """Draw images from a saved generator: `advisor generate conditional-gan --model PATH
    --label L --count N --output FILE.png` (`advisor generate NAME --help` lists the options)."""
    if name is None or name in ("--help", "-h"):
        typer.echo(ctx.get_help())
        raise typer.Exit(ExitStatus.OK if name else ExitStatus.USAGE)
    info = lookup(name)
    from recipes import runner

    try:
        raise typer.Exit(runner.generate(info.name, list(ctx.args)))
    except RecipeError as error:
        fail(error)


def main() -> int:
    app(prog_name="advisor")
    return ExitStatus.OK
