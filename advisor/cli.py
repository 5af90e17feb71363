"""The `advisor` command line (Typer). One function per command; the knowledge lives in data."""

from __future__ import annotations

import difflib
import importlib
import json
import sys

import typer

from recipes import catalog
from recipes.common import ExitStatus, RecipeError, report_error

app = typer.Typer(
    name="advisor",
    help="Find the right Keras model for your problem, and run or copy a recipe that already "
         "works.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def fail(error: RecipeError) -> None:
    report_error(error)
    raise typer.Exit(error.exit_code)


def lookup(name: str) -> catalog.RecipeInfo:
    info = catalog.get(name)
    if info is None:
        close = difflib.get_close_matches(name, catalog.names(), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        fail(RecipeError(f"unknown recipe {name!r}",
                         hint=f"{hint}run `advisor list` to see every recipe",
                         exit_code=ExitStatus.USAGE))
    return info


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
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Recipes")
    table.add_column("name", style="bold")
    table.add_column("task")
    table.add_column("description")
    for recipe in catalog.RECIPES:
        table.add_row(recipe.name, recipe.task, recipe.description)
    Console().print(table)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                      "help_option_names": []},
)
def run(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="recipe name (see `advisor list`)", show_default=False),
) -> None:
    """Run a recipe: `advisor run NAME [OPTIONS]...` (`advisor run NAME --help` lists them)."""
    if name is None or name in ("--help", "-h"):
        typer.echo(ctx.get_help())
        raise typer.Exit(ExitStatus.OK if name else ExitStatus.USAGE)
    info = lookup(name)
    module = importlib.import_module(info.module)
    raise typer.Exit(module.main(list(ctx.args)))


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
    module = importlib.import_module(info.module)
    if not hasattr(module, "generate_main"):
        makers = [r.name for r in catalog.RECIPES if "generation" in r.task]
        fail(RecipeError(f"recipe {name!r} does not generate images",
                         hint=f"recipes that do: {', '.join(makers)}",
                         exit_code=ExitStatus.USAGE))
    raise typer.Exit(module.generate_main(list(ctx.args)))


def main() -> int:
    try:
        app(prog_name="advisor")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    return ExitStatus.OK
