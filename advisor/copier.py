"""`advisor copy`: a recipe, the project modules it imports and its shipped data, copied
into another folder so that it runs there without keras-recipes installed.

A recipe on the runner (mnist_fnn.py) is one file that imports nothing of the project: it is
copied alone, with its data. `--with-runner` adds recipes/runner.py and the modules it
imports (and the recipe's `run_steps` module, such as the GAN's judge), for checkpoints,
--resume, run directories and strategies. A recipe not yet on the
runner is copied with the project modules it imports.

The recipe keeps its file name (mnist_fnn.py); each project module it needs, found by
reading its imports with `ast` (transitively), lands beside it with a `recipes_` prefix
(recipes_common.py, recipes_runner.py) so that it cannot clash with a module of yours.
Imports are rewritten to match; nothing else in the code changes. Shipped data goes to
datasets/, with its checksums and provenance, where the recipe looks for it.
"""

from __future__ import annotations

import ast
import difflib
import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

import recipes
from recipes.catalog import RecipeInfo
from recipes.common import RecipeError, default_file_mode

PACKAGE = "recipes"
PACKAGE_DIR = Path(recipes.__file__).resolve().parent
DATA_EXTRAS = ("SHA256SUMS", "README.md")  # checksums and provenance travel with the data
RUNNER = f"{PACKAGE}.runner"
RUNNER_REQUIRES = ("rich", "matplotlib")  # the runner's tables and pictures


@dataclass
class PlannedFile:
    dest: Path
    content: bytes
    source: str
    state: str = "new"  # new, same (already there, identical) or differs

    @property
    def is_text(self) -> bool:
        return self.dest.suffix in (".py", ".md", "") and b"\x00" not in self.content


def module_file(module: str) -> Path:
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) != 2:
        raise RecipeError(f"cannot copy module {module}: only modules directly inside "
                          f"the {PACKAGE} package can be copied",
                          hint="keep recipe helpers as single files in recipes/")
    path = PACKAGE_DIR / f"{parts[1]}.py"
    if not path.is_file():
        raise RecipeError(f"module {module} has no file {path}",
                          hint="reinstall keras-recipes")
    return path


def target_name(module: str, entry: str) -> str:
    """The module's name in the copy: the recipe keeps its own, helpers get a prefix."""
    short = module.split(".")[-1]
    return short if module == entry else f"{PACKAGE}_{short}"


def _is_submodule(name: str) -> bool:
    return (PACKAGE_DIR / f"{name}.py").is_file()


def _from_base(node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` reads from (relative ones are ours)."""
    if node.level:
        return ".".join(filter(None, [PACKAGE, node.module]))
    return node.module or ""


def _project_import(node: ast.AST, module: str) -> list[str] | None:
    """The project modules an import statement brings in (None when it is not ours)."""
    if isinstance(node, ast.Import):
        found = []
        for alias in node.names:
            if alias.name == PACKAGE:
                raise RecipeError(f"{module}: `import {PACKAGE}` cannot be rewritten for a copy",
                                  hint=f"import the modules you use: from {PACKAGE} import x")
            if alias.name.startswith(PACKAGE + "."):
                found.append(alias.name)
        return found or None
    if isinstance(node, ast.ImportFrom):
        base = _from_base(node)
        if base == PACKAGE:
            found = []
            for alias in node.names:
                if not _is_submodule(alias.name):
                    raise RecipeError(
                        f"{module}: `from {PACKAGE} import {alias.name}` names no module",
                        hint=f"import {alias.name} from the module that defines it")
                found.append(f"{PACKAGE}.{alias.name}")
            return found
        if base.startswith(PACKAGE + "."):
            return [base]
    return None


def dependencies(entry: str) -> list[str]:
    """The entry module and every project module it imports, transitively, in order."""
    order, todo = [], [entry]
    while todo:
        module = todo.pop(0)
        if module in order:
            continue
        order.append(module)
        tree = ast.parse(module_file(module).read_bytes(), filename=str(module_file(module)))
        for node in ast.walk(tree):
            todo += [m for m in (_project_import(node, module) or []) if m not in order]
    return order


def rewrite(source: str, module: str, entry: str) -> str:
    """The module's source with its project imports pointing at the copied modules."""
    data = source.encode("utf-8")
    line_starts = [0]
    for line in data.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return line_starts[line - 1] + col

    tree = ast.parse(source)
    edits: list[tuple[int, int, str]] = []
    bound: dict[str, str] = {}  # `import recipes.x` binds `recipes`: recipes.x -> new name
    for node in ast.walk(tree):
        modules = _project_import(node, module)
        if not modules:
            continue
        indent = data[line_starts[node.lineno - 1]:offset(node.lineno, node.col_offset)]
        separator = "\n" + indent.decode() if not indent.strip() else "; "
        statements = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    new = target_name(alias.name, entry)
                    if alias.asname:
                        statements.append(f"import {new} as {alias.asname}")
                    else:
                        statements.append(f"import {new}")
                        bound[alias.name] = new
                else:
                    statements.append(f"import {alias.name}"
                                      + (f" as {alias.asname}" if alias.asname else ""))
        elif _from_base(node) != PACKAGE:  # from recipes.common import X
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "")
                              for a in node.names)
            statements.append(f"from {target_name(modules[0], entry)} import {names}")
        else:  # from recipes import common, data
            for alias, full in zip(node.names, modules, strict=True):
                new = target_name(full, entry)
                local = alias.asname or alias.name
                statements.append(f"import {new}" if new == local else
                                  f"import {new} as {local}")
        edits.append((offset(node.lineno, node.col_offset),
                      offset(node.end_lineno, node.end_col_offset), separator.join(statements)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == PACKAGE and f"{PACKAGE}.{node.attr}" in bound):
            edits.append((offset(node.lineno, node.col_offset),
                          offset(node.end_lineno, node.end_col_offset),
                          bound[f"{PACKAGE}.{node.attr}"]))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text.encode("utf-8") + data[end:]
    text = data.decode("utf-8")
    # Usage lines in the docstring: `python -m recipes.mnist_fnn` -> `python mnist_fnn.py`.
    short = entry.split(".")[-1]
    if module == entry:
        text = text.replace(f"python -m {entry}", f"python {short}.py")
        text = text.replace(f"from {PACKAGE} import {short}", f"import {short}")
    return text.replace(f"python -m {RUNNER}", f"python {target_name(RUNNER, entry)}.py")


def modules(info: RecipeInfo, with_runner: bool = False) -> list[str]:
    """The project modules a copy holds, the recipe first."""
    if info.on_runner:
        if not with_runner:
            return [info.module]
        found = [info.module, *dependencies(RUNNER)]
        if info.run_steps:  # imported by name, so not among the runner's imports
            found += [m for m in dependencies(info.run_steps) if m not in found]
        return found
    return dependencies(info.module)


def requires(info: RecipeInfo, with_runner: bool = False) -> tuple[str, ...]:
    """The packages a copy needs."""
    extra = RUNNER_REQUIRES if info.on_runner and with_runner else ()
    return (*info.requires, *(r for r in extra if r not in info.requires))


def plan(info: RecipeInfo, dest: Path, with_runner: bool = False) -> list[PlannedFile]:
    """What copying the recipe into dest would write, and how each file stands there now."""
    files = []
    for module in modules(info, with_runner):
        path = module_file(module)
        source = path.read_text(encoding="utf-8")
        text = rewrite(source, module, info.module)
        header = (f"# From keras-recipes {recipes.__version__}, {PACKAGE}/{path.name} "
                  "(copied by `advisor copy`).\n")
        files.append(PlannedFile(dest / f"{target_name(module, info.module)}.py",
                                 (header + text).encode("utf-8"), f"{PACKAGE}/{path.name}"))
    if info.shipped:
        from recipes.data import datasets_dir

        data_dir = datasets_dir()
        for name in (*info.shipped, *DATA_EXTRAS):
            source = data_dir / name
            if not source.is_file():
                raise RecipeError(f"shipped file {name} of recipe {info.name} is missing",
                                  hint="reinstall keras-recipes")
            files.append(PlannedFile(dest / "datasets" / name, source.read_bytes(),
                                     f"datasets/{name}"))
    for planned in files:
        if planned.dest.is_file():
            planned.state = "same" if planned.dest.read_bytes() == planned.content else "differs"
        elif planned.dest.exists():
            planned.state = "differs"
    return files


def check_destination(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise RecipeError(f"destination {dest} is a file, not a folder",
                          hint="give a folder to copy into (it is created if missing)")
    existing = dest
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise RecipeError(f"cannot create {dest}: {existing} is a file",
                          hint="give a folder path to copy into")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RecipeError(f"destination {dest} is not writable"
                          + (f" ({existing} is read-only)" if existing != dest else ""),
                          hint="choose a folder you can write to")


def write(files: list[PlannedFile], overwrite: bool) -> list[PlannedFile]:
    """Writes the new and (with overwrite) the changed files, each atomically."""
    blocked = [f for f in files if f.state == "differs" and not overwrite]
    if blocked:
        names = ", ".join(str(f.dest) for f in blocked[:5])
        raise RecipeError(f"{len(blocked)} file(s) already exist and differ: {names}",
                          hint="pass --overwrite to replace them, or --dry-run --diff to see "
                               "the differences")
    written = []
    for planned in files:
        if planned.state == "same":
            continue
        if planned.dest.exists() and not planned.dest.is_file():
            raise RecipeError(f"{planned.dest} exists and is not a file",
                              hint="move it away, or copy into another folder")
        try:
            planned.dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{planned.dest.name}.", dir=planned.dest.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(planned.content)
            os.chmod(tmp, default_file_mode())  # as open() would, not mkstemp's 0600
            os.replace(tmp, planned.dest)
        except OSError as error:
            raise RecipeError(f"cannot write {planned.dest}: {error.strerror}",
                              hint="choose a folder you can write to") from None
        written.append(planned)
    return written


def diff(planned: PlannedFile) -> str:
    if planned.state != "differs" or not planned.is_text or not planned.dest.is_file():
        return ""
    try:
        old = planned.dest.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ""
    new = planned.content.decode("utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, str(planned.dest), f"{planned.source} (copy)"))


def pip_line(info: RecipeInfo, with_runner: bool = False) -> str:
    return "pip install " + " ".join(shlex.quote(r) for r in requires(info, with_runner))
