"""`advisor copy`: what it copies and rewrites, how it refuses to clobber files, and every
recipe running from its copy with keras-recipes out of reach."""

import ast
import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from advisor import copier
from advisor.cli import app
from recipes import catalog

runner = CliRunner()


def copy(*args):
    return runner.invoke(app, ["copy", *map(str, args)])


# --------------------------------------------------------------------------------------
# rewriting imports
# --------------------------------------------------------------------------------------


def test_every_import_form_is_rewritten():
    source = (
        "import os\n"
        "from recipes import common, data as d\n"
        "from recipes.common import RecipeError, ExitStatus as E\n"
        "import recipes.data\n"
        "from . import common as c2\n"
        "from .data import (\n    read_csv,\n    load_images,\n)\n"
        "def f():\n"
        "    import recipes.common, json\n"
        "    return recipes.common.ExitStatus, recipes.data.read_csv\n"
    )
    out = copier.rewrite(source, "recipes.mnist_fnn", "recipes.mnist_fnn")
    assert "recipes." not in out.replace("recipes_", "")
    assert "import recipes_common as common\nimport recipes_data as d\n" in out
    assert "from recipes_common import RecipeError, ExitStatus as E\n" in out
    assert "import recipes_data\n" in out and "import recipes_common as c2\n" in out
    assert "from recipes_data import read_csv, load_images\n" in out
    assert "    import recipes_common\n    import json\n" in out
    assert "return recipes_common.ExitStatus, recipes_data.read_csv" in out
    ast.parse(out)


def test_the_recipe_keeps_its_name_and_its_usage_lines_follow():
    text = copier.rewrite("'''\n    python -m recipes.mnist_fnn --data full\n"
                          "    from recipes import mnist_fnn\n'''\n",
                          "recipes.mnist_fnn", "recipes.mnist_fnn")
    assert "python mnist_fnn.py --data full" in text and "import mnist_fnn" in text


def test_dependencies_are_found_transitively():
    assert copier.dependencies("recipes.mnist_fnn") == ["recipes.mnist_fnn"]  # one file
    found = copier.dependencies("recipes.runner")
    assert found[0] == "recipes.runner"
    assert {"recipes.common", "recipes.data", "recipes.engine", "recipes.callbacks"} <= set(found)
    for module in found:  # closed: whatever a copied module imports is copied too
        tree = ast.parse(copier.module_file(module).read_bytes())
        for node in ast.walk(tree):
            assert set(copier._project_import(node, module) or []) <= set(found)
    assert copier.dependencies("recipes.neuron_math") == ["recipes.neuron_math",
                                                          "recipes.common"]


def _third_party(tree: ast.AST, module_level_only: bool) -> set[str]:
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "__future__"}


DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml"}


def _requirement_names(requirements) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


@pytest.mark.parametrize("name", catalog.names())
def test_the_pip_line_covers_what_the_copy_imports(name, tmp_path):
    info = catalog.get(name)
    files = copier.plan(info, tmp_path)
    ours = {f.dest.stem for f in files if f.dest.suffix == ".py"}
    needed = set()
    for planned in files:
        if planned.dest.suffix != ".py":
            continue
        tree = ast.parse(planned.content)
        # every import of the recipe itself; the module-level imports of its helpers
        needed |= _third_party(tree, module_level_only=planned.dest.stem != files[0].dest.stem)
    needed = {DISTRIBUTIONS.get(n, n).lower() for n in needed - ours}
    assert needed <= _requirement_names(info.requires)


@pytest.mark.parametrize("name", catalog.names())
def test_the_scripts_own_dependency_block_agrees_with_the_catalog(name):
    path = copier.module_file(catalog.get(name).module)
    block = re.search(r"^# /// script\n(.*?)^# ///$", path.read_text(), re.S | re.M)
    assert block is not None, f"{path.name} has no PEP 723 block: a copy must say what it needs"
    listed = re.search(r"dependencies = \[(.*?)\]", block[1], re.S)[1]
    header = _requirement_names(re.findall(r'"([^"]+)"', listed))
    assert header == _requirement_names(catalog.get(name).requires)


# --------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------


DATA = {"datasets/README.md", "datasets/SHA256SUMS", "datasets/fashion_mnist_sample.npz",
        "datasets/mnist_sample.npz"}


def test_copy_writes_the_one_recipe_file_and_its_data_and_prints_the_pip_line(tmp_path):
    dest = tmp_path / "project"
    result = copy("mnist-fnn", dest)
    assert result.exit_code == 0, result.output
    names = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert names == DATA | {"mnist_fnn.py"}
    assert "pip install 'keras>=3.15' 'tensorflow>=2.21' numpy\n" in result.stdout
    assert "python mnist_fnn.py" in result.stdout and "runner" not in result.stdout
    assert "python mnist_fnn.py --epochs 5" in (dest / "mnist_fnn.py").read_text()


def test_with_runner_adds_the_runner_and_its_modules_and_says_how_to_run_it(tmp_path):
    dest = tmp_path / "project"
    result = copy("mnist-fnn", dest, "--with-runner")
    assert result.exit_code == 0, result.output
    names = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert names == DATA | {"mnist_fnn.py"} | {f"recipes_{m.split('.')[1]}.py"
                                               for m in copier.dependencies("recipes.runner")}
    assert "pip install 'keras>=3.15' 'tensorflow>=2.21' numpy rich matplotlib" in result.stdout
    assert f"cd {dest} && python recipes_runner.py mnist-fnn --help" in result.stdout
    assert "import recipes_engine as engine" in (dest / "recipes_runner.py").read_text()
    assert "python recipes_runner.py mnist-fnn --help" in (dest / "mnist_fnn.py").read_text()


def test_dry_run_writes_nothing(tmp_path):
    dest = tmp_path / "project"
    result = copy("mnist-fnn", dest, "--dry-run")
    assert result.exit_code == 0
    assert "would write" in result.stdout and str(dest / "mnist_fnn.py") in result.stdout
    assert not dest.exists()


def test_existing_files_are_never_overwritten_without_overwrite(tmp_path):
    dest = tmp_path / "project"
    assert copy("mnist-fnn", dest, "--with-runner").exit_code == 0
    again = copy("mnist-fnn", dest, "--with-runner")
    assert again.exit_code == 0 and "unchanged" in again.stdout
    mine = dest / "recipes_common.py"
    mine.write_text("# my own edits\n")
    result = copy("mnist-fnn", dest, "--with-runner")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 1 file(s) already exist and differ")
    assert "hint: pass --overwrite" in result.stderr
    assert mine.read_text() == "# my own edits\n"
    dry = copy("mnist-fnn", dest, "--with-runner", "--dry-run", "--diff")
    assert "exists, differs" in dry.stdout and "-# my own edits" in dry.stdout
    assert mine.read_text() == "# my own edits\n"
    assert copy("mnist-fnn", dest, "--with-runner", "--overwrite").exit_code == 0
    assert "class ExitStatus" in mine.read_text()


def test_two_recipes_share_their_helpers_in_one_folder(tmp_path):
    assert copy("mnist-fnn", tmp_path, "--with-runner").exit_code == 0
    result = copy("neuron-math", tmp_path)
    assert result.exit_code == 0, result.output
    assert "unchanged recipes_common.py".replace(" ", "") in result.stdout.replace(" ", "") \
        .replace(str(tmp_path) + "/", "")


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.write_text("x"), "is a file, not a folder"),
    (lambda p: None, "cannot create"),
])
def test_bad_destinations_are_one_line_errors(tmp_path, make, fragment):
    blocker = tmp_path / "thing"
    if fragment == "cannot create":
        blocker.write_text("x")
        dest = blocker / "sub"
    else:
        make(blocker)
        dest = blocker
    result = copy("mnist-fnn", dest)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and fragment in result.stderr
    assert "\nhint: " in result.stderr


def test_a_destination_that_is_not_writable_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(copier.os, "access", lambda path, mode: False)
    result = copy("mnist-fnn", tmp_path / "project")
    assert result.exit_code == 1 and "not writable" in result.stderr
    assert not (tmp_path / "project").exists()


def test_unknown_recipe_suggests_the_closest(tmp_path):
    result = copy("mnist_fnn", tmp_path)
    assert result.exit_code == 2 and "did you mean 'mnist-fnn'" in result.stderr


# --------------------------------------------------------------------------------------
# every recipe runs from its copy, with keras-recipes out of reach
# --------------------------------------------------------------------------------------

# A Python that cannot see the project: every sys.path entry that holds it is removed (the
# test virtualenv has keras-recipes installed), and that its modules are out of reach is
# checked before anything runs. It then runs jobs, each `python SCRIPT ARGS...` from its own
# folder (cwd and sys.path[0] = that folder, as `python script.py` would have), one after the
# other in this one process, so that TensorFlow is imported once for all recipes.
ISOLATED = r"""
import contextlib, io, json, os, runpy, sys, time, traceback
sys.path[:] = [p for p in sys.path
               if not os.path.isfile(os.path.join(p or os.curdir, "recipes", "__init__.py"))]
for module in ("recipes.common", "recipes.data", "advisor"):
    try:
        __import__(module)
    except ModuleNotFoundError:
        continue
    raise SystemExit(f"keras-recipes is importable: {module}")
sys.modules.pop("recipes", None)
base, (jobs_file, results_file) = list(sys.path), sys.argv[1:3]
jobs, results = json.load(open(jobs_file)), {}
for job in jobs:
    os.chdir(job["folder"])
    sys.path[:] = [job["folder"], *base]
    for name in job["modules"]:  # each recipe imports its own copies
        sys.modules.pop(name, None)
    sys.argv = [job["script"], *job["args"]]
    out, err, code, started = io.StringIO(), io.StringIO(), 0, time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(job["script"], run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    results[job["name"]] = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                            "seconds": round(time.perf_counter() - started, 1)}
json.dump(results, open(results_file, "w"))
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One HOME for the isolated runs: matplotlib builds its font cache there once."""
    return tmp_path_factory.mktemp("home")


def run_isolated(jobs: list[dict], home, timeout=1200) -> dict:
    """Runs the jobs ({name, folder, script, args, modules}) with the project out of reach."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
           "KERAS_HOME": str(home / ".keras"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "", "NO_COLOR": "1", "MPLBACKEND": "Agg"}
    jobs_file, results_file = home / "jobs.json", home / "results.json"
    jobs_file.write_text(json.dumps(jobs))
    results_file.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-I", "-c", ISOLATED, str(jobs_file),
                           str(results_file)], cwd=home, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        return {"error": done.stdout + done.stderr[-3000:]}
    return json.loads(results_file.read_text())


def job(name: str, folder, *args) -> dict:
    info = catalog.get(name)
    files = copier.plan(info, folder)
    return {"name": name, "folder": str(folder), "script": files[0].dest.name,
            "args": [str(a) for a in args],
            "modules": [f.dest.stem for f in files if f.dest.suffix == ".py"]}


def test_the_isolation_really_hides_the_project(tmp_path, home):
    (tmp_path / "probe.py").write_text("import recipes.common\n")
    probe = {"name": "probe", "folder": str(tmp_path), "script": "probe.py", "args": [],
             "modules": []}
    result = run_isolated([probe], home)["probe"]
    assert result["code"] == 1 and "No module named 'recipes" in result["stderr"]


def test_a_copied_recipe_names_its_own_file_in_its_usage(tmp_path, home):
    assert copy("linear-regression", tmp_path).exit_code == 0
    jobs = [{**job("linear-regression", tmp_path, "--help"), "name": "help"},
            {**job("linear-regression", tmp_path, "--epochs", "0"), "name": "mistake"}]
    results = run_isolated(jobs, home)
    assert results["help"]["code"] == 0, results
    assert results["help"]["stdout"].startswith("usage: python linear_regression.py ")
    assert results["mistake"]["code"] == 2
    assert "hint: run `python linear_regression.py --help`" in results["mistake"]["stderr"]


def quick_options(help_text: str, output: str) -> list[str]:
    """One short run on the shipped sample, with whichever of these options it takes: one
    epoch on a slice of the data, no XLA compilation (it costs more than it saves here)."""
    wanted = [("--data", ["sample"]), ("--epochs", ["1"]), ("--max-samples", ["1000"]),
              ("--max-windows", ["256"]), ("--rows", ["20000"]), ("--classifier-epochs", ["2"]),
              ("--no-jit", []), ("--quiet", []), ("--output", [output]), ("--json", [])]
    return [piece for option, value in wanted if re.search(rf"{option}\b", help_text)
            for piece in [option, *value]]


ON_RUNNER = [name for name in catalog.names() if catalog.get(name).on_runner]
# The image classifiers' own plain main saves the model file --output names.
CLASSIFIERS = [name for name in ON_RUNNER if catalog.get(name).task == "image classification"]
# The linear family's in-memory five (each copied with linear_family.py and columns.py).
TABLES = [name for name in ON_RUNNER if catalog.get(name).predicts_rows]
# Copied --with-runner and run through it: one in-memory table recipe stands for the five;
# sgd-classifier, which streams, runs too.
WITH_RUNNER = [name for name in ON_RUNNER if name not in TABLES[1:] or name == "sgd-classifier"]
RUNNER_RUN = ["--seed", "1", "--quiet", "--json", "--output", "run"]
RUNNER_QUICK = {  # one short run through the runner, per recipe
    "conditional-gan": ["--epochs", "1", "--max-samples", "1280", "--classifier-epochs", "2",
                        "--samples-per-class", "20"],
    "lstm-forecaster": ["--epochs", "2", "--max-windows", "1000"],
    "linear-regression": ["--epochs", "3"],
    "sgd-classifier": ["--rows", "20000"],
}


@pytest.fixture(scope="module")
def copies_run(tmp_path_factory, home):
    """Every recipe copied into an empty folder of its own, asked for --help, then run
    shortly there; returns {name: (folder, options, help result, run result)}. A recipe on
    the runner is also copied --with-runner and run through it ("NAME+runner")."""
    folders = {}
    for name in catalog.names():
        folder = tmp_path_factory.mktemp(name) / "project"
        assert copy(name, folder).exit_code == 0
        folders[name] = folder
    helps = run_isolated([job(n, f, "--help") for n, f in folders.items()], home)
    # a plain recipe's --output is the saved model's file
    options = {n: quick_options(helps.get(n, {}).get("stdout", ""),
                                "run.keras" if n in CLASSIFIERS else "run")
               + (["--seed", "1"] if n in ON_RUNNER else []) for n in folders}
    jobs = [job(n, f, *options[n]) for n, f in folders.items()]
    for name in WITH_RUNNER:
        folder = tmp_path_factory.mktemp(name) / "with-runner"
        assert copy(name, folder, "--with-runner").exit_code == 0
        files = copier.plan(catalog.get(name), folder, with_runner=True)
        quick = RUNNER_QUICK.get(name, ["--epochs", "1", "--max-samples", "1000"])
        folders[f"{name}+runner"], options[f"{name}+runner"] = folder, [*quick, *RUNNER_RUN]
        jobs.append({"name": f"{name}+runner", "folder": str(folder),
                     "script": "recipes_runner.py", "args": [name, *quick, *RUNNER_RUN],
                     "modules": [f.dest.stem for f in files if f.dest.suffix == ".py"]})
    runs = run_isolated(jobs, home)
    return {n: (folders[n], options[n], helps.get(n, helps), runs.get(n, runs))
            for n in folders}


@pytest.mark.parametrize("name", catalog.names())
def test_every_recipe_runs_from_its_copy(name, copies_run):
    folder, options, help_run, run = copies_run[name]
    script = f"{name.replace('-', '_')}.py"
    assert help_run.get("code") == 0, help_run
    assert help_run["stdout"].startswith(f"usage: {script}" if name in CLASSIFIERS else
                                         f"usage: python {script}")
    assert run.get("code") == 0, (run.get("stderr", "") or str(run))[-3000:]
    assert "Traceback" not in run["stderr"]
    if name in CLASSIFIERS:
        assert (folder / "run.keras").is_file()
    elif "--output" in options:
        assert (folder / "run" / "metrics.json").is_file()
    if "--json" in options:
        assert run["stdout"].lstrip().startswith("{")
    written = {p.name for p in folder.iterdir()} - {f.dest.name for f in copier.plan(
        catalog.get(name), folder)} - {"run", "run.keras", "__pycache__", "datasets"}
    assert written == set(), f"the recipe wrote outside its output folder: {written}"


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_recipe_file_copied_alone_learns_in_one_epoch(name, copies_run):
    """`python mnist_fnn.py --epochs 1 --max-samples 1000` in a folder holding only the
    file and its data, the project out of reach: well above chance (0.10)."""
    _, options, _, run = copies_run[name]
    assert options[:6] == ["--data", "sample", "--epochs", "1", "--max-samples", "1000"]
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", run["stdout"])[1])
    assert accuracy >= 0.25, run["stdout"]  # 1,000 test images: chance is 0.10 +- 0.01


@pytest.mark.parametrize("name", TABLES)
def test_a_table_recipe_copied_alone_learns_in_one_round(name, copies_run):
    """`python linear_regression.py --data sample --epochs 1 --seed 1 --output run`, with
    recipes_linear_family.py, recipes_columns.py and the shipped CSV beside it: one round
    of full-batch steps already beats the mean (R^2 0) or the commonest class. sgd-classifier
    generates its sample (20,000 rows, with datasets/make_big_csv.py copied beside it) and
    one pass of SGD comes close to the best accuracy any classifier can reach on it."""
    folder, options, _, run = copies_run[name]
    assert options[:4] == ["--data", "sample", "--epochs", "1"]
    assert {"recipes_linear_family.py", "recipes_columns.py"} <= {p.name for p in
                                                                  folder.iterdir()}
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["recipe"] == name and (folder / "run" / "model.keras").is_file()
    test = metrics["test"]
    if metrics["task"] == "regression":
        assert test["r2"] > 0.6, test  # the mean: 0
    elif name == "sgd-classifier":
        assert (folder / "datasets" / "make_big_csv.py").is_file()
        assert metrics["data"] == "sample:generated 20,000 rows"
        assert test["accuracy"] >= metrics["bayes_accuracy"] - 0.02, test  # chance: 0.5
    else:
        assert test["accuracy"] > 0.85, test  # the commonest class: 0.63 and 0.44


@pytest.mark.parametrize("name", [name for name in ON_RUNNER
                                  if name not in CLASSIFIERS + TABLES])
def test_the_gan_and_the_forecaster_copied_alone_learn(name, copies_run):
    """The file alone, the project out of reach: after one epoch the GAN's discriminator
    tells real from generated images better than chance and its generator draws other
    images than it did untrained; the forecaster beats the last observed value."""
    folder, _, _, run = copies_run[name]
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    if name == "conditional-gan":
        import keras
        import numpy as np

        from recipes import conditional_gan as cgan

        assert metrics["steps"] == 1000 // 64
        assert metrics["discriminator"]["d_accuracy"] > 0.6  # chance: 0.5
        trained = keras.saving.load_model(folder / "run" / "generator.keras", safe_mode=True)
        untrained = cgan.build_model((28, 28, 1), 10, cgan.Config(seed=0)).generator
        noise, labels = cgan.noise_for(20, 64, 0), np.arange(20).reshape(-1, 1) % 10
        change = np.abs(cgan.generate_images(trained, labels, noise)
                        - cgan.generate_images(untrained, labels, noise)).mean()
        assert change > 0.1  # in [0, 1] pixel units
    else:
        test = metrics["test"]
        assert test["model"]["mae"] < 0.85 * test["persistence"]["mae"]
        assert "model: MAE" in run["stdout"]


@pytest.mark.parametrize("name", WITH_RUNNER)
def test_a_recipe_copied_with_the_runner_runs_through_it(name, copies_run):
    folder, _, _, run = copies_run[f"{name}+runner"]
    assert run.get("code") == 0, (run.get("stderr", "") or str(run))[-3000:]
    metrics = json.loads(run["stdout"])
    assert metrics["recipe"] == name
    assert json.loads((folder / "run" / "metrics.json").read_text()) == metrics
    written = {p.name for p in (folder / "run").iterdir()}
    test = metrics["test"]
    if name == "conditional-gan":  # its judge (recipes_gan_quality.py) came with it
        assert {"generator.keras", "samples.png", "samples-epoch-001.png"} <= written
        assert test["d_accuracy"] > 0.6 and metrics["quality"]["samples"] == 200  # chance 0.5
    elif name == "lstm-forecaster":
        assert {"model.keras", "forecast.png", "history.csv"} <= written
        assert test["model"]["mae"] < test["persistence"]["mae"]
    elif name == "sgd-classifier":
        assert {"model.keras", "columns.json", "roc_curve.png", "history.csv"} <= written
        assert test["accuracy"] >= metrics["bayes_accuracy"] - 0.02  # chance: 0.5
        assert metrics["train_rows_seen"] > 0.85 * 20_000
    elif name in TABLES:
        assert {"model.keras", "columns.json", "predicted_vs_actual.png"} <= written
        assert test["r2"] > 0.7  # the mean: 0
    else:
        assert test["accuracy"] >= 0.25  # chance: 0.10
        assert {"model.keras", "history.csv", "confusion_matrix.png"} <= written
