"""What README.md and docs/ state stays true: every command they show parses (the advisor's
commands and options exist; a recipe's options are ones its parser takes), and every link
to a file in the project points at one."""

import importlib
import re
import shlex

import pytest
import typer.main

from advisor.cli import app
from recipes import catalog, runner
from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def commands():
    """(page, command) for every `advisor ...` or `python -m recipes...` line in a bash
    block, continuation lines joined and comments dropped."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S):
            text = re.sub(r"\\\n\s*", " ", block)
            for line in text.splitlines():
                line = re.sub(r"\s+#.*$", "", line).strip()
                line = re.sub(r"^(\.venv/bin/|cd \S+ && )", "", line)
                if line.startswith(("advisor ", "python -m recipes.")):
                    found.append((page.name, line))
    return found


def test_the_pages_show_commands():
    assert len(commands()) > 30


def catalog_entry(module: str):
    return next((r for r in catalog.RECIPES if r.module == module), None)


def _options_of_the_plain_main(module, args, capsys):
    """A recipe file's own main trains at once: its options are checked against --help."""
    with pytest.raises(SystemExit):
        module.main(["--help"])
    shown = capsys.readouterr().out
    for option in (a.split("=")[0] for a in args if a.startswith("--")):
        assert f"{option} " in shown or f"{option}\n" in shown, option


@pytest.mark.parametrize("page, line", commands())
def test_every_command_shown_parses(page, line, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    words = shlex.split(line)
    if words[:3] == ["python", "-m", "recipes.runner"] or words[:2] == ["advisor", "run"]:
        name, args = words[3 if words[0] == "python" else 2], words[4 if words[0] == "python"
                                                                    else 3:]
        info, module = runner.find(name)
        if info.on_runner:
            if "--resume" not in args and "--help" not in args:
                runner.make_parser(info, module).parse_args(args)
            return
    elif words[0] == "python":
        module, args = importlib.import_module(words[2]), words[3:]
        entry = catalog_entry(words[2])
        if entry and entry.on_runner:  # a recipe file's own plain main
            _options_of_the_plain_main(module, args, capsys)
            return
    else:
        group = typer.main.get_command(app)
        command = group.get_command(group.make_context("advisor", [words[1]]), words[1])
        assert command is not None, f"{page}: no command {words[1]!r}"
        command.make_context(words[1], words[2:], resilient_parsing=False).close()
        return
    if "--resume" in args or "--help" in args:
        return
    module.parse_args(args)  # a usage mistake raises RecipeError


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_to_a_project_file_resolves(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if not target.startswith(("http://", "https://", "mailto:")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
