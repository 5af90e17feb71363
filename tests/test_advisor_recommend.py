"""`advisor recommend`: options, the interview, CSV profiling, and clean errors."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor import knowledge, profile
from advisor.cli import app
from tests.conftest import ROOT

runner = CliRunner()
DATA = ROOT / "datasets"

FULL_TABULAR_NUMBER = ["--goal", "predict-number", "--data", "tabular", "--rows", "500",
                       "--fits-in-memory", "--no-outliers", "--no-feature-selection"]


def recommend(*args, input=None):
    return runner.invoke(app, ["recommend", *map(str, args)], input=input)


def as_json(*args, input=None):
    result = recommend(*args, "--json", input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_clean_error(result, code, *fragments):
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return lines


# --------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------


def test_json_has_the_promised_fields():
    out = as_json(*FULL_TABULAR_NUMBER)
    assert out["model"] == "LinearRegression"
    assert out["recipe"] == "linear-regression"
    assert out["rule"] == "Basic Prediction"
    assert isinstance(out["why"], list) and out["why"]
    assert isinstance(out["alternatives"], list) and out["alternatives"]
    assert out["metrics"] and out["answers"]["goal"] == "predict-number"
    assert out["answered_by"]["goal"] == "option"


def test_advice_only_recommendations_have_a_null_recipe():
    out = as_json("--goal", "find-groups", "--rows", "300", "--fits-in-memory")
    assert out["recipe"] is None and out["model"] == "KMeans"
    assert out["estimator"] == "sklearn.cluster.KMeans"
    assert any("scikit-learn.org" in step for step in out["next"])


def test_a_recipe_not_there_yet_is_said_plainly(monkeypatch):
    from recipes import catalog

    out = as_json("--goal", "forecast")
    assert out["recipe"] == "lstm-forecaster" and out["recipe_available"] is True
    assert "advisor run lstm-forecaster" in out["next"]

    monkeypatch.delitem(catalog.BY_NAME, "lstm-forecaster")  # a version without it
    out = as_json("--goal", "forecast")
    assert out["recipe"] == "lstm-forecaster" and out["recipe_available"] is False
    assert "The lstm-forecaster recipe is not in this version of keras-recipes yet." \
        in out["notes"]
    assert not any("lstm-forecaster" in step for step in out["next"])
    text = recommend("--goal", "forecast").stdout
    assert "lstm-forecaster (not in this version of keras-recipes yet)" in text


def test_panel_shows_model_rule_answers_alternatives_metrics_and_next_commands():
    result = recommend("--goal", "predict-category", "--data", "images")
    assert result.exit_code == 0
    text = result.stdout
    for fragment in ("Recommendation", "Conv2D classifier", "Image classification",
                     "Your answers", "goal", "predict-category", "Alternatives", "mnist-fnn",
                     "Metrics to watch", "accuracy", "Next:", "advisor run mnist-fnn"):
        assert fragment in text, fragment
    assert result.stderr == ""
    assert "\x1b[" not in text  # no colour codes when not a terminal


def test_missing_answers_are_a_usage_error_listing_them():
    result = recommend("--goal", "predict-number", "--data", "tabular")
    lines = assert_clean_error(result, 2, "--rows", "--outliers/--no-outliers",
                               "--feature-selection/--no-feature-selection")
    assert "--classes" not in lines[0]  # does not matter for predict-number
    assert result.stdout == ""


def test_nothing_given_without_a_terminal_asks_for_the_goal_first():
    result = recommend()
    assert_clean_error(result, 2, "--goal")


def test_answers_that_do_not_matter_are_not_demanded():
    out = as_json("--goal", "predict-number", "--data", "tabular", "--rows", "5000000")
    assert out["rule"] == "Big Data (predicting a number)"


def test_bad_option_values_are_usage_errors_in_the_house_style():
    assert_clean_error(recommend("--goal", "guess"), 2, "--goal")
    assert_clean_error(recommend("--classes", "1", "--goal", "predict-category"), 2,
                       "--classes")
    assert_clean_error(recommend("--rows", "many"), 2, "--rows")


def test_features_and_rows_suggest_feature_selection():
    out = as_json("--goal", "predict-number", "--data", "tabular", "--rows", "200",
                  "--features", "80", "--fits-in-memory", "--no-outliers")
    assert out["rule"] == "Feature Selection" and out["recipe"] == "lasso-regression"
    assert out["answered_by"]["feature_selection"].startswith("inferred")
    out = as_json("--goal", "predict-number", "--data", "tabular", "--rows", "200",
                  "--features", "80", "--fits-in-memory", "--no-outliers",
                  "--no-feature-selection")
    assert out["rule"] == "Basic Prediction"


# --------------------------------------------------------------------------------------
# the interview
# --------------------------------------------------------------------------------------


def test_interview_asks_one_question_at_a_time_and_skips_what_does_not_matter():
    # no CSV (Enter), goal (by number), data (by prefix), rows, outliers; 500 rows fit in
    # memory (inferred, not asked), and with outliers feature selection no longer matters
    out = as_json("--interactive", input="\n1\ntab\n500\ny\n")
    assert out["rule"] == "Outlier-Prone Data"
    assert out["answered_by"]["goal"] == "your answer"
    assert out["answered_by"]["fits_in_memory"].startswith("inferred: 500 rows")


def test_interview_prompts_go_to_stderr_with_help_and_defaults():
    result = recommend("--interactive", input="\n1\ntab\n500\ny\n")
    assert result.exit_code == 0
    err = result.stderr
    assert "What should the model do?" in err and "predict-number: a price" in err
    assert "(predict-category)" in err  # the default
    assert "How many categories" not in err  # skipped: the goal is a number
    assert "Recommendation" in result.stdout and "What should" not in result.stdout


def test_interview_takes_defaults_and_retries_invalid_answers():
    # no CSV; goal: "maybe" is refused, then Enter takes the default (predict-category);
    # data: default tabular; classes: "one" refused, "1" refused, then 2; rows: default 1000
    # (so fits in memory is inferred)
    out = as_json("--interactive", input="\nmaybe\n\n\none\n1\n2\n\n")
    assert out["rule"] == "Binary Classification"
    assert out["answers"] == {"goal": "predict-category", "data": "tabular", "classes": 2,
                              "rows": 1000, "fits_in_memory": True}


def test_interview_asks_only_what_options_left_open():
    result = recommend("--interactive", "--goal", "forecast", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["recipe"] == "lstm-forecaster"
    result = recommend("--interactive", "--goal", "predict-category", "--json", input="4\n")
    assert "What does your data look like?" in result.stderr
    assert json.loads(result.stdout)["rule"] == "Text classification"


def test_interview_cut_short_is_a_clean_usage_error():
    result = recommend("--interactive", input="\n1\n")
    assert result.exit_code == 2 and "Traceback" not in result.output
    error, hint = result.stderr.splitlines()[-2:]
    assert error.endswith("error: the input ended before every question was answered")
    assert hint == "hint: answer in a terminal, or give --data as an option"


def test_interview_starts_on_its_own_when_stdin_is_a_terminal(monkeypatch):
    from advisor import interview

    monkeypatch.setattr(interview, "stdin_is_terminal", lambda: True)
    out = as_json(input="\n3\n")
    assert out["rule"] == "Forecasting a sequence"
    monkeypatch.setattr(interview, "stdin_is_terminal", lambda: False)
    assert recommend().exit_code == 2


# --------------------------------------------------------------------------------------
# --csv
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, target, rule", [
    ("autompg.csv", "mpg", "Basic Prediction"),
    ("breast_cancer.csv", "benign", "Binary Classification"),
    ("taylor.csv", "demand_mw", "Forecasting a sequence"),
    ("seattle_weather.csv", "weather", "Multi-class classification"),
])
def test_shipped_csvs_are_profiled_into_the_expected_rule(name, target, rule):
    out = as_json("--csv", DATA / name, "--target", target)
    assert out["rule"] == rule
    assert out["profile"]["target"] == target
    assert all(source.startswith("profile: ") for source in out["answered_by"].values())


def test_profile_says_which_finding_drove_each_answer():
    out = as_json("--csv", DATA / "breast_cancer.csv", "--target", "benign")
    prof = out["profile"]
    assert prof["rows"] == 569 and prof["features"] == 30 and prof["target_kind"] == "binary"
    assert prof["answers"]["goal"] == {"value": "predict-category",
                                       "because": "the target is binary"}
    assert prof["answers"]["classes"]["value"] == 2
    assert "30 features for 569 rows" in prof["answers"]["feature_selection"]["because"]
    result = recommend("--csv", DATA / "breast_cancer.csv", "--target", "benign")
    for fragment in ("Profile of breast_cancer.csv", "Answers from the data", "because",
                     "binary: 2 values", "Binary Classification"):
        assert fragment in result.stdout, fragment


def test_options_override_what_the_profile_inferred():
    out = as_json("--csv", DATA / "autompg.csv", "--target", "mpg", "--outliers")
    assert out["rule"] == "Outlier-Prone Data"
    assert out["answered_by"]["outliers"] == "option"
    assert out["profile"]["answers"]["outliers"]["value"] is False


def test_an_outlier_prone_target_is_found(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = x @ [1.0, 2.0, -1.0] + rng.normal(scale=0.1, size=400)
    y[:20] += rng.choice([-1, 1], size=20) * 60  # 5% wild values
    path = tmp_path / "houses.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "price": y}).to_csv(path,
                                                                               index=False)
    out = as_json("--csv", path, "--target", "price")
    assert out["rule"] == "Outlier-Prone Data" and out["recipe"] == "huber-regression"
    assert 0.04 <= out["profile"]["outlier_share"] <= 0.06


def test_many_features_relative_to_rows_suggest_lasso(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(60, 20)), columns=[f"f{i}" for i in range(20)])
    frame["y"] = frame["f0"] * 3 + rng.normal(size=60)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    out = as_json("--csv", path, "--target", "y")
    assert out["rule"] == "Feature Selection"


def test_a_text_column_makes_it_text_classification(tmp_path):
    words = "the quick brown fox jumps over a lazy dog near my old house".split()
    rng = np.random.default_rng(2)
    texts = [" ".join(rng.choice(words, size=8)) for _ in range(50)]
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "label": rng.choice(["good", "bad"], 50)}).to_csv(
        path, index=False)
    out = as_json("--csv", path, "--target", "label")
    assert out["rule"] == "Text classification"
    assert out["profile"]["text_columns"] == ["review"]


def test_a_file_larger_than_memory_is_big_data(monkeypatch):
    monkeypatch.setattr(profile, "available_memory", lambda: 50_000)  # 5x 120 KB won't fit
    # Fewer rows to read than the file's 569, so that it is profiled from a sample.
    monkeypatch.setitem(knowledge.load().thresholds, "sample_rows", 200)
    out = as_json("--csv", DATA / "breast_cancer.csv", "--target", "benign")
    assert out["rule"] == "Big Data" and out["recipe"] == "sgd-classifier"
    assert out["answers"]["fits_in_memory"] is False
    prof = out["profile"]
    assert prof["sampled"] is True and prof["rows"] == 569  # counted while sampling
    assert any("profiled a random sample of 200 rows spread over all 569" in note
               for note in out["notes"])


def sampled_above_10_kb(monkeypatch):
    """Files over 10 kB count as large, and their samples hold 1,000 rows."""
    thresholds = knowledge.load().thresholds
    monkeypatch.setitem(thresholds, "sample_above_bytes", 10_000)
    monkeypatch.setitem(thresholds, "sample_rows", 1_000)


def test_a_large_file_is_profiled_from_a_sample(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=20_000), "y": rng.normal(size=20_000)})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    sampled_above_10_kb(monkeypatch)
    out = as_json("--csv", path, "--target", "y")
    prof = out["profile"]
    assert prof["sampled"] and prof["rows"] == 20_000
    assert any("profiled a random sample of 1,000 rows spread over all 20,000" in note
               for note in out["notes"])


def test_a_large_file_sorted_by_its_target_is_profiled_from_rows_spread_over_it(
        tmp_path, monkeypatch):
    """Its first rows hold one class only; a sample of the first rows would find nothing
    to predict. The profile's sample holds the rows `advisor compare` scores on."""
    from advisor import compare

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=6_000), "z": rng.normal(size=6_000)})
    frame["label"] = np.where(frame["x"] + rng.normal(size=6_000) > 0, "yes", "no")
    frame = frame.sort_values("label").reset_index(drop=True)
    frame["row"] = np.arange(len(frame))
    path = tmp_path / "sorted.csv"
    frame.to_csv(path, index=False)
    sampled_above_10_kb(monkeypatch)
    out = as_json("--csv", path, "--target", "label")
    assert out["rule"] == "Binary Classification" and out["profile"]["rows"] == 6_000
    assert 0.4 < out["profile"]["class_shares"]["yes"] < 0.6
    profiled, _ = profile.read_sample(path, 1_000)
    scored, _ = profile.read_sample(path, 500)  # advisor compare's, smaller, same seed
    assert set(scored["row"]) <= set(profiled["row"])
    assert compare.load(path, "label", "binary")[1] == 6_000


def test_a_number_with_few_whole_values_is_read_as_classes_with_a_note():
    out = as_json("--csv", DATA / "autompg.csv", "--target", "cylinders")
    assert out["rule"] == "Multi-class classification"
    assert any("--goal predict-number" in note for note in out["notes"])
    out = as_json("--csv", DATA / "autompg.csv", "--target", "cylinders",
                  "--goal", "predict-number")
    assert out["rule"] in ("Basic Prediction", "Outlier-Prone Data")


def test_interactive_csv_without_target_asks_for_it():
    out = as_json("--csv", DATA / "autompg.csv", "--interactive", input="mpg\n")
    assert out["profile"]["target"] == "mpg"


@pytest.mark.parametrize("content, fragments", [
    (None, ["no such file"]),
    (b"", ["is empty"]),
    (b"a,b,c\n", ["no rows"]),
    ("prix,libellé\n1,été\n2,hiver\n".encode("latin-1"), ["not UTF-8"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary"]),
])
def test_unreadable_csvs_are_one_line_errors(tmp_path, content, fragments):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    assert_clean_error(recommend("--csv", path, "--target", "a"), 1, *fragments)


def test_missing_target_column_lists_the_columns():
    result = recommend("--csv", DATA / "autompg.csv", "--target", "price")
    assert_clean_error(result, 2, "no column 'price'", "mpg", "horsepower")
    result = recommend("--csv", DATA / "autompg.csv")
    assert_clean_error(result, 2, "--target", "mpg")


def test_target_all_missing_or_constant_is_an_error(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("x,y,z\n1,,5\n2,,5\n3,,5\n")
    assert_clean_error(recommend("--csv", path, "--target", "y"), 1, "empty in every row")
    assert_clean_error(recommend("--csv", path, "--target", "z"), 1, "single value")


def test_target_without_csv_is_a_usage_error():
    assert_clean_error(recommend("--target", "y", "--goal", "forecast"), 2, "--csv")


def test_outlier_share_uses_a_robust_rule():
    thresholds = knowledge.load().thresholds
    values = np.r_[np.random.default_rng(0).normal(size=990), [50.0] * 10]
    share, method = profile.outlier_share(values, thresholds)
    assert share == pytest.approx(0.01, abs=0.003) and "IQR" in method
    clean = np.random.default_rng(1).normal(size=60)  # small and clean: no false alarm
    assert profile.outlier_share(clean, thresholds)[0] == 0
    mostly_zero = np.r_[np.zeros(900), np.arange(1, 101)]
    share, method = profile.outlier_share(mostly_zero, thresholds)
    assert 0 < share <= 0.1


def test_ctrl_c_during_the_interview_exits_130(monkeypatch):
    from advisor import interview

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(interview, "ask", interrupted)
    result = recommend("--interactive")  # no CSV offered (end of input), then Ctrl-C
    assert result.exit_code == 130 and result.stderr.strip().splitlines()[-1] == "interrupted"


def test_the_suggested_command_trains_the_recipe_on_the_profiled_csv(tmp_path):
    import shlex

    from recipes import catalog

    out = as_json("--csv", DATA / "autompg.csv", "--target", "mpg")
    assert catalog.get(out["recipe"]) is not None and out["recipe_available"] is True
    command = next(step for step in out["next"] if "--target" in step)
    args = shlex.split(command)[1:]  # drop "advisor"
    assert args[:2] == ["run", "linear-regression"]
    result = runner.invoke(app, [*args, "--epochs", "2", "--quiet", "--json",
                                 "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "metrics.json").is_file()
