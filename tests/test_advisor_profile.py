"""`advisor recommend --csv`: reading a table as a careful practitioner would. A series or
events, identifiers and constants, leaks, a skewed target, a series too short for an LSTM;
answers inferred rather than asked; the interview's CSV offer and "not sure"; saved answers."""

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor import knowledge
from advisor.cli import app
from recipes import columns
from tests.conftest import ROOT
from tests.test_advisor_recommend import as_json, recommend

runner = CliRunner()
DATA = ROOT / "datasets"
FIXTURES = ROOT / "tests" / "data"
SHORTEST = knowledge.load().thresholds["series_min_steps"]


def profiled(frame: pd.DataFrame, tmp_path, target: str, name: str = "data.csv") -> dict:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return as_json("--csv", path, "--target", target)


def suggested(out: dict) -> list[str]:
    """The suggested `advisor run RECIPE --data F --target T ... --output DIR` command,
    split, without its --output."""
    words = shlex.split(next(step for step in out["next"] if "--target" in step))
    assert words[-2] == "--output" and words[-1].startswith("runs/")
    return words[:-2]


def noted(out: dict, *fragments: str) -> str:
    """The one note that holds every fragment."""
    found = [note for note in out["notes"] if all(f in note for f in fragments)]
    assert found, (fragments, out["notes"])
    return found[0]


# --------------------------------------------------------------------------------------
# series, events, panel
# --------------------------------------------------------------------------------------


def test_one_row_per_evenly_spaced_time_is_a_series_to_forecast(tmp_path):
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-01-01", periods=2000, freq="h")
    load = 100 + 10 * np.sin(np.arange(2000) * 2 * np.pi / 24) + rng.normal(size=2000)
    out = profiled(pd.DataFrame({"when": times, "load": load}), tmp_path, "load")
    timing = out["profile"]["timing"]
    assert timing["shape"] == "series" and timing["key"] == "when" and timing["step"] == "1 hour"
    assert out["rule"] == "Forecasting a sequence"
    assert "one row per hour" in out["profile"]["answers"]["goal"]["because"]
    assert suggested(out)[-2:] == ["--time-col", "when"]
    assert not any("too short" in note for note in out["notes"])


def test_many_rows_per_timestamp_are_events_not_a_series(tmp_path):
    rng = np.random.default_rng(1)
    hours = pd.date_range("2024-01-01", periods=200, freq="h")
    rows = 3000
    frame = pd.DataFrame({"time": rng.choice(hours, rows), "distance": rng.uniform(100, 2000, rows),
                          "carrier": rng.choice(list("ABCDE"), rows)})
    frame["minutes"] = frame["distance"] / 8 + rng.normal(scale=10, size=rows)
    out = profiled(frame.sort_values("time"), tmp_path, "minutes")
    timing = out["profile"]["timing"]
    assert timing["shape"] == "events" and timing["key"] == "time"
    assert out["answers"]["goal"] == "predict-number" and out["recipe"] != "lstm-forecaster"
    because = out["profile"]["answers"]["goal"]["because"]
    assert "rows per time" in because and "not a series" in because and "parts" in because


def test_several_entities_over_time_are_a_panel_said_plainly(tmp_path):
    rng = np.random.default_rng(2)
    days = pd.date_range("2024-01-01", periods=150, freq="D")
    frame = pd.DataFrame([(day, store) for day in days for store in ("north", "south", "east")],
                         columns=["day", "store"])
    frame["sales"] = rng.gamma(5, 20, len(frame))
    out = profiled(frame, tmp_path, "sales")
    timing = out["profile"]["timing"]
    assert timing["shape"] == "panel" and timing["entity"] == "store"
    assert out["answers"]["goal"] == "predict-number"
    noted(out, "a panel", "'store'", "lstm-forecaster takes one series")


def test_a_numeric_time_key_makes_a_series_and_a_short_one_gets_statistical_advice(tmp_path):
    months = 1990 + np.arange(120) / 12  # a decimal year, as R's ts objects write it
    values = 50 + 5 * np.sin(np.arange(120) * 2 * np.pi / 12) + np.arange(120) * 0.3
    out = profiled(pd.DataFrame({"time": months, "value": values}), tmp_path, "value")
    assert out["profile"]["timing"]["shape"] == "series"
    assert out["rule"] == "Forecasting a sequence"
    note = noted(out, "only 120 time steps", "ExponentialSmoothing", "ARIMA")
    assert f"{SHORTEST:,.0f}" in note
    assert "--time-col" not in suggested(out)  # the forecaster takes rows in file order


def test_a_row_number_is_not_a_time_key(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 2))
    frame = pd.DataFrame({"row": np.arange(1, 301), "a": x[:, 0], "b": x[:, 1],
                          "y": x @ [1.0, -2.0] + rng.normal(size=300)})
    out = profiled(frame, tmp_path, "y")
    assert out["profile"]["timing"]["shape"] == "table"
    assert out["rule"] == "Basic Prediction" and out["profile"]["features"] == 2


@pytest.mark.parametrize("gaps", [[1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5]])
def test_timing_reads_numbers_by_name_and_step(gaps):
    steps = np.cumsum([0.0] * 1 + gaps * 10)
    whole = all(float(g).is_integer() for g in gaps)
    frame = pd.DataFrame({"n": 7 + steps, "year": 2000 + steps, "y": np.arange(len(steps))})
    found = columns.timing(frame, "y", columns.classify(frame, "y"))
    assert found.shape == "series"
    assert found.key == ("year" if whole else "n")  # a whole step needs a time-like name


# --------------------------------------------------------------------------------------
# identifiers, constants, leaks
# --------------------------------------------------------------------------------------


def test_identifiers_and_constants_are_named_and_not_counted_as_features(tmp_path):
    rng = np.random.default_rng(4)
    rows = 200
    frame = pd.DataFrame({
        "Unnamed: 0": np.arange(rows),
        "code": [f"C{i:05d}" for i in rng.permutation(rows)],
        "name": [f"{a} {b}" for a, b in zip(rng.permutation(rows), rng.permutation(rows),
                                            strict=True)],
        "country": "NZ",
        "age": rng.integers(18, 80, rows),
        "income": rng.gamma(4, 10_000, rows),
    })
    frame["spend"] = frame["income"] * 0.1 + rng.normal(scale=500, size=rows)
    out = profiled(frame, tmp_path, "spend")
    roles = {c: r["role"] for c, r in out["profile"]["column_roles"].items()}
    assert roles == {"Unnamed: 0": "identifier", "code": "identifier", "name": "identifier",
                     "country": "constant", "age": "number", "income": "number"}
    assert out["profile"]["features"] == 2 and out["answers"]["features"] == 2
    for column in ("Unnamed: 0", "code", "name", "country"):
        noted(out, repr(column), "left out of the features")
    assert "--drop" not in suggested(out)  # the recipes leave identifiers out themselves


def test_a_feature_whose_sign_decides_the_label_is_a_leak_dropped_with_a_reason(tmp_path):
    rng = np.random.default_rng(5)
    rows = 600
    change = rng.normal(size=rows)
    frame = pd.DataFrame({"lag1": rng.normal(size=rows), "volume": rng.gamma(2, 1, rows),
                          "change": change, "direction": np.where(change >= 0, "Up", "Down")})
    out = profiled(frame, tmp_path, "direction")
    assert list(out["profile"]["leaks"]) == ["change"]
    noted(out, "'change' is a probable leak", "--drop change")
    command = suggested(out)
    assert command[command.index("--drop") + 1] == "change"
    assert out["profile"]["features"] == 2


def test_leaks_in_a_large_table_are_judged_on_a_fixed_sample_with_the_same_verdict():
    """Above LEAK_ROWS rows the leak check sorts a fixed sample instead of every row: a
    leak is still found, a merely useful column is still not one, and the verdict is the
    same every time (the profile and a recipe reading the same table agree)."""
    rng = np.random.default_rng(8)
    rows = columns.LEAK_ROWS * 3
    signal = rng.normal(size=rows)
    label = np.where(signal + rng.normal(scale=0.02, size=rows) > 0, "yes", "no")
    frame = pd.DataFrame({"near_copy": signal, "useful": signal + rng.normal(size=rows),
                          "noise": rng.normal(size=rows), "label": label})
    roles = columns.classify(frame, "label")
    found = columns.leaks(frame, "label", roles, "binary")
    assert list(found) == ["near_copy"]
    assert columns.leaks(frame, "label", roles, "binary") == found


# --------------------------------------------------------------------------------------
# the target's shape
# --------------------------------------------------------------------------------------


def test_a_skewed_positive_target_spanning_orders_of_magnitude_gets_a_log_note(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=500)
    price = np.exp(10 + 1.2 * x + rng.normal(scale=0.5, size=500))
    out = profiled(pd.DataFrame({"x": x, "price": price}), tmp_path, "price")
    note = noted(out, "'price' is positive, right-skewed", "log(price)")
    assert "times its smallest" in note
    assert out["answers"]["outliers"] is False  # its long tail is no outlier on a log scale
    normal = pd.DataFrame({"x": x, "y": 100 + 10 * x + rng.normal(size=500)})
    assert not any("log(" in note for note in profiled(normal, tmp_path, "y")["notes"])


def test_class_imbalance_is_still_noted(tmp_path):
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.normal(size=500),
                          "fraud": np.r_[np.ones(25), np.zeros(475)].astype(int)})
    noted(profiled(frame, tmp_path, "fraud"), "rarest class is 5.0%")


# --------------------------------------------------------------------------------------
# real tables
# --------------------------------------------------------------------------------------


def test_a_real_event_log_is_a_regression_not_a_forecast():
    out = as_json("--csv", FIXTURES / "flights.csv", "--target", "arr_delay")
    prof = out["profile"]
    assert prof["timing"]["shape"] == "events" and prof["timing"]["key"] == "time_hour"
    assert out["answers"]["goal"] == "predict-number" and out["recipe"] != "lstm-forecaster"
    noted(out, "'rownames'", "identifier")
    noted(out, "'year'", "constant", "(2013)")
    assert prof["column_roles"]["time_hour"]["role"] == "date"  # expanded into parts


def test_a_real_monthly_series_keyed_by_a_decimal_year_is_forecast():
    out = as_json("--csv", FIXTURES / "airpassengers.csv", "--target", "value")
    assert out["profile"]["timing"]["key"] == "time"
    assert out["rule"] == "Forecasting a sequence"
    noted(out, "'rownames' is left out", "identifier")
    noted(out, "only 144 time steps", "ARIMA")


@pytest.mark.parametrize("name, target, column", [
    ("credit.csv", "Balance", "ID"),
])
def test_a_real_index_column_is_left_out(name, target, column):
    out = as_json("--csv", DATA / name, "--target", target)
    assert out["profile"]["column_roles"][column]["role"] == "identifier"
    assert out["profile"]["features"] == len(out["profile"]["column_roles"]) - 1
    noted(out, repr(column), "left out")


def test_a_real_leak_is_named_and_dropped():
    out = as_json("--csv", DATA / "smarket.csv", "--target", "Direction")
    assert list(out["profile"]["leaks"]) == ["Today"]
    assert suggested(out)[-2:] == ["--drop", "Today"]


def test_a_real_skewed_target_with_missing_values():
    out = as_json("--csv", DATA / "hitters.csv", "--target", "Salary")
    noted(out, "59 row(s) have no 'Salary'")
    noted(out, "log(Salary)")
    assert out["rule"] == "Basic Prediction"


def test_the_suggested_command_with_drop_trains_without_the_leak(tmp_path):
    from recipes import catalog

    out = as_json("--csv", DATA / "smarket.csv", "--target", "Direction")
    if catalog.get(out["recipe"]) is None:
        pytest.skip(f"{out['recipe']} is not in this version yet")
    run = tmp_path / "run"
    result = runner.invoke(app, [*suggested(out)[1:], "--epochs", "2", "--quiet", "--json",
                                 "--output", str(run)])
    assert result.exit_code == 0, result.output
    assert "Today" not in (run / "columns.json").read_text()


# --------------------------------------------------------------------------------------
# inferred answers, the interview, saved answers
# --------------------------------------------------------------------------------------


def test_fits_in_memory_is_inferred_from_rows_and_features():
    out = as_json("--goal", "find-groups", "--data", "tabular", "--rows", "5000",
                  "--features", "10")
    assert out["model"] == "KMeans" and out["answers"]["fits_in_memory"] is True
    assert out["answered_by"]["fits_in_memory"].startswith("inferred: 5,000 x 11 numbers")


def test_the_interview_first_offers_to_read_a_csv():
    path = DATA / "autompg.csv"
    result = recommend("--interactive", "--json", input=f"{path}\nmpg\n")
    assert result.exit_code == 0, result.output
    assert "Do you have a CSV" in result.stderr
    out = json.loads(result.stdout)
    assert out["profile"]["target"] == "mpg" and out["rule"] == "Basic Prediction"
    # a path that is not a file is asked again; Enter goes on to the questions
    result = recommend("--interactive", "--json", input="nowhere.csv\n\n3\n")
    assert "no file 'nowhere.csv'" in result.stderr
    assert json.loads(result.stdout)["rule"] == "Forecasting a sequence"


def test_not_sure_takes_the_safer_answer_and_says_how_to_tell():
    # goal, data, rows, fits in memory: not sure, outliers: not sure
    result = recommend("--interactive", "--json", "--goal", "predict-number", "--data",
                       "tabular", "--rows", "500", "--features", "3", input="not sure\n")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["answers"]["outliers"] is True and out["rule"] == "Outlier-Prone Data"
    assert out["answered_by"]["outliers"].startswith("not sure")
    assert "box plot" in result.stderr
    assert any(note.startswith("Not sure of") for note in out["notes"])
    assert "y, n, or not sure" in result.stderr


def test_saved_answers_replay_to_the_same_advice(tmp_path):
    saved = tmp_path / "answers.toml"
    first = as_json("--csv", DATA / "smarket.csv", "--target", "Direction",
                    "--save-answers", saved)
    text = saved.read_text()
    assert 'goal = "predict-category"' in text and "[sources]" in text
    again = as_json("--answers", saved)
    assert again["rule"] == first["rule"] and again["answers"] == first["answers"]
    assert again["next"] == first["next"]  # the CSV profiled again: --drop Today kept
    assert again["answered_by"]["goal"].startswith("saved in answers.toml")
    override = as_json("--answers", saved, "--goal", "find-groups")
    assert override["model"] == "KMeans"  # an option still wins


def test_saved_answers_from_options_alone(tmp_path):
    saved = tmp_path / "team.toml"
    as_json("--goal", "predict-number", "--data", "tabular", "--rows", "200", "--features",
            "80", "--no-outliers", "--save-answers", saved)
    assert "csv =" not in saved.read_text()
    assert as_json("--answers", saved)["rule"] == "Feature Selection"


@pytest.mark.parametrize("content, fragment", [
    (None, "no such file"),
    ("goal = [", "not a TOML file"),
    ("[answers]\nmood = \"happy\"\n", "unknown answer 'mood'"),
    ("[answers]\ngoal = \"guess\"\n", "goal = 'guess'"),
    ("[answers]\nrows = 0\n", "rows = 0"),
    ("[answers]\noutliers = \"yes\"\n", "outliers = 'yes'"),
])
def test_a_bad_answers_file_is_a_clean_usage_error(tmp_path, content, fragment):
    path = tmp_path / "answers.toml"
    if content is not None:
        path.write_text(content)
    result = recommend("--answers", path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert fragment in lines[0], lines


def test_a_recipe_without_drop_gets_no_drop_but_the_leak_is_still_named(monkeypatch):
    from advisor import profile

    monkeypatch.setattr(profile, "available_memory", lambda: 50_000)  # big data: sgd
    out = as_json("--csv", DATA / "smarket.csv", "--target", "Direction")
    assert out["recipe"] == "sgd-classifier"
    assert not any("--drop" in step for step in out["next"])
    noted(out, "'Today' is a probable leak", "leave it out")
    assert not any(note.startswith("The suggested command leaves out") for note in out["notes"])


def test_reading_a_large_file_reports_its_progress_by_bytes(tmp_path):
    """What the bar in a terminal shows: bytes read after each chunk, rising to the size."""
    from advisor import profile

    path = tmp_path / "rows.csv"
    pd.DataFrame({"x": np.arange(5_000), "y": np.arange(5_000) % 3}).to_csv(path, index=False)
    seen = []
    frame, rows = profile.read_sample(path, 500, chunk_rows=1_000,
                                      progress=lambda done, total: seen.append((done, total)))
    assert rows == 5_000 and len(frame) == 500 and len(seen) == 5
    size = path.stat().st_size
    assert all(total == size for _, total in seen) and seen[-1][0] == size
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_the_reading_bar_stays_silent_outside_a_terminal(capsys):
    from advisor.cli import reading_bar

    with reading_bar(Path("big.csv")) as update:
        assert update is None
    assert capsys.readouterr().err == ""


def test_the_reading_bar_in_a_terminal_names_the_file_once_reading_begins(monkeypatch):
    import io

    from rich.console import Console

    from advisor import cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "stderr_console", lambda: Console(
        file=screen, force_terminal=True, width=100))
    with cli.reading_bar(Path("big.csv")) as update:
        assert screen.getvalue() == ""  # nothing until a chunk is read
        update(50_000_000, 200_000_000)
        update(200_000_000, 200_000_000)
    assert "reading big.csv" in screen.getvalue()
