"""The runner: options built from a recipe's Config, dispatch to the recipes not yet on it,
and recipes on it that stand alone (the training itself is checked in each recipe's tests)."""

import ast
import re
import sys
from pathlib import Path

import pytest

from recipes import catalog, engine, runner
from recipes.catalog import RecipeInfo
from recipes.common import RecipeError

ON_RUNNER = [info for info in catalog.RECIPES if info.on_runner]


def help_text(name, capsys):
    with pytest.raises(SystemExit) as stop:
        runner.main([name, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_options_come_from_the_config_fields_with_a_help(capsys):
    text = help_text("mnist-fnn", capsys)
    assert text.startswith("usage: python -m recipes.runner mnist-fnn")
    for option in ("--dataset {mnist,fashion-mnist}", "--epochs EPOCHS", "--batch-size",
                   "--learning-rate", "--max-samples", "--seed", "--output", "--resume",
                   "--strategy", "--mixed-precision", "--json", "--quiet"):
        assert option in text, option
    assert "(default: 5)" in text and "--hidden-units" not in text  # no help: not an option
    assert "--augment" in help_text("conv2d-classifier", capsys)


def test_a_recipe_not_on_the_runner_runs_its_own_main(capsys):
    info = next(i for i in catalog.RECIPES if not i.on_runner)
    assert help_text(info.name, capsys).startswith(f"usage: python -m {info.module}")


@pytest.mark.parametrize("argv, message", [([], "name the recipe"), (["mnist-fn"], "unknown")])
def test_no_or_an_unknown_recipe_is_a_usage_error(argv, message, capsys):
    assert runner.main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and message in err[0] and err[1].startswith("hint: ")


def imports(path) -> tuple[set[str], set[str]]:
    """(top-level packages, modules of this project) a file imports."""
    tree = ast.parse(open(path).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    ours = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "recipes" for alias in node.names}
    return imported - {"recipes"}, ours


# What the table recipes share, copied with each: the family imports only columns.
SHARED = {"linear_family": {"columns"}, "columns": set()}


@pytest.mark.parametrize("info", ON_RUNNER, ids=lambda info: info.name)
def test_a_recipe_on_the_runner_imports_nothing_of_the_project(info: RecipeInfo):
    path = runner.find(info.name)[1].__file__
    tree = ast.parse(open(path).read())
    imported, ours = imports(path)
    packages = {re.split(r"[<>=~!]", requirement)[0] for requirement in info.requires}
    assert ours <= (set(SHARED) if info.predicts_rows else set())
    for module in ours | {m for o in ours for m in SHARED[o]}:
        shared, theirs = imports(Path(path).with_name(f"{module}.py"))
        assert theirs == SHARED[module] and "advisor" not in shared
        imported |= shared
    assert "advisor" not in imported
    assert imported - set(sys.stdlib_module_names) <= packages  # what its header names
    nested = [node.name for function in tree.body if isinstance(function, ast.FunctionDef)
              for node in ast.walk(function) if isinstance(node, ast.ClassDef)]
    assert nested == []  # Keras classes at module level, none made inside a function
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef,
                                                                  ast.ClassDef))}
    names |= {target.id for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name)}  # train = family.train
    assert {"Config", "load_data", "build_model", "train", "evaluate", "main"} <= names


@pytest.mark.parametrize("name, wanted", [
    ("conditional-gan", ["--dataset {mnist,fashion-mnist}", "--max-samples", "--latent-dim",
                         "--learning-rate", "--max-minutes", "--classifier PATH",
                         "--classifier-epochs", "--samples-per-class", "--no-projection",
                         "--strategy", "--resume"]),
    ("lstm-forecaster", ["--target", "--time-col", "--features COL,COL|all", "--every N",
                         "--window", "--horizon", "--season", "--max-windows N",
                         "--cell {lstm,gru}", "--bidirectional", "--units", "--strategy",
                         "--resume"]),
])
def test_the_gan_and_the_forecaster_take_their_options_through_the_runner(name, wanted,
                                                                          capsys):
    text = help_text(name, capsys)
    for option in wanted:
        assert option in text, option
    assert text.count("--seed SEED") == 2 and "--jit-compile" not in text  # usage, help


def test_a_recipe_that_does_not_generate_or_predict_says_so(tmp_path):
    with pytest.raises(RecipeError, match="does not generate images"):
        runner.generate("lstm-forecaster", [])
    with pytest.raises(RecipeError, match="unknown recipe"):
        runner.generate("gan", [])


def test_the_callbacks_are_module_level_keras_callbacks():
    import keras

    from recipes import callbacks

    for cls in (callbacks.StopOnCtrlC, callbacks.SeedStates, callbacks.ResumeHistory):
        assert issubclass(cls, keras.callbacks.Callback) and "<locals>" not in cls.__qualname__


def test_xla_defaults_on_a_cpu_only_where_the_recipe_says():
    """lstm-forecaster's Config asks for XLA on a CPU too (`on_cpu`), mnist-fnn's does not;
    --no-jit and --jit decide over both."""
    decided = {}
    for name, argv in [("lstm-forecaster", []), ("mnist-fnn", []),
                       ("lstm-forecaster", ["--no-jit"]), ("mnist-fnn", ["--jit"])]:
        info, recipe = runner.find(name)
        args, _ = runner.parse_args(info, recipe, argv)
        trainer = engine.setup(args, jit_on_cpu=runner.jit_on_cpu(recipe))
        decided[name, tuple(argv)] = trainer.jit_compile
    with_gpu = bool(engine._gpus())  # where XLA is on for every recipe
    assert decided == {("lstm-forecaster", ()): True, ("mnist-fnn", ()): with_gpu,
                       ("lstm-forecaster", ("--no-jit",)): False,
                       ("mnist-fnn", ("--jit",)): True}
