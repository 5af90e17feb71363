"""Property tests: any answers, any small CSV -> a recommendation or a clean error, never a
traceback."""

import json
import string

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor import knowledge
from advisor.cli import app

runner = CliRunner()
K = knowledge.load()
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def check(result) -> dict | None:
    """Exit 0 with one JSON object, or exit 1/2 with `error:` and `hint:` lines."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    if result.exit_code == 0:
        out = json.loads(result.stdout)
        assert out["model"] and out["rule"] and out["why"]
        assert out["recipe"] is None or isinstance(out["recipe"], str)
        return out
    assert result.exit_code in (1, 2), result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("error: ") and lines[-1].startswith("hint: "), result.stderr
    return None


def option(key: str):
    question = K.by_key[key]
    flag = "--" + key.replace("_", "-")
    if question.kind == "choice":
        values = st.sampled_from(question.choices)
        return st.none() | values.map(lambda v: [flag, v])
    if question.kind == "number":
        return st.none() | st.integers(min_value=-3, max_value=3_000_000).map(
            lambda v: [flag, str(v)])
    return st.none() | st.booleans().map(lambda v: [flag if v else f"--no-{flag[2:]}"])


answers = st.tuples(*(option(q.key) for q in K.questions))


@FAST
@given(answers)
def test_any_answers_give_a_recommendation_or_a_clean_usage_error(chosen):
    args = [piece for pair in chosen if pair for piece in pair]
    result = runner.invoke(app, ["recommend", "--json", *args])
    out = check(result)
    if out is None:
        return
    rule = K.settled(out["answers"])  # the answers shown are enough to reach the rule shown
    assert rule is not None and rule.rule == out["rule"]


cells = st.one_of(
    st.none(),
    st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(alphabet=string.ascii_letters + " ,\"'\n-/:", max_size=12),
    st.sampled_from(["2020-01-01", "2021/03/04 10:00", "yes", "no", "", "NaN", "1e309"]),
    st.booleans(),
)


@st.composite
def frames(draw):
    n_cols = draw(st.integers(min_value=1, max_value=5))
    n_rows = draw(st.integers(min_value=0, max_value=12))
    names = draw(st.lists(st.text(alphabet=string.ascii_lowercase + "_ ", min_size=1,
                                  max_size=6), min_size=n_cols, max_size=n_cols, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["cells", "numbers", "classes", "times", "index"]))
        if kind == "times":  # a time key: evenly spaced, repeated or shuffled
            step = draw(st.sampled_from(["h", "D", "MS"]))
            times = pd.date_range("2020-01-01", periods=max(n_rows, 1), freq=step)
            values = draw(st.lists(st.sampled_from(list(times)), min_size=n_rows,
                                   max_size=n_rows)) if draw(st.booleans()) else list(
                times[:n_rows])
        elif kind == "index":  # a row number, or a decimal year
            start = draw(st.sampled_from([0, 1, 1949.0]))
            step = 1 if start != 1949.0 else 1 / 12
            values = [start + i * step for i in range(n_rows)]
        elif kind == "numbers":
            values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n_rows, max_size=n_rows))
        elif kind == "classes":
            values = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_rows,
                                   max_size=n_rows))
        else:
            values = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
        columns[name] = values
    return pd.DataFrame(columns), draw(st.sampled_from([*names, "not_a_column"]))


@FAST
@given(frames(), st.lists(st.sampled_from(["--goal", "--outliers"]), max_size=1))
def test_any_small_csv_gives_a_recommendation_or_a_clean_error(tmp_path_factory, case, extra):
    frame, target = case
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    frame.to_csv(path, index=False)
    args = ["--csv", str(path), "--target", target]
    if extra == ["--goal"]:
        args += ["--goal", "predict-number"]
    elif extra:
        args += extra
    out = check(runner.invoke(app, ["recommend", "--json", *args]))
    event("recommendation" if out else "clean error")


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_as_a_csv_give_a_clean_answer(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("raw") / "data.csv"
    path.write_bytes(content)
    check(runner.invoke(app, ["recommend", "--json", "--csv", str(path), "--target", "a"]))



answer_values = st.one_of(st.booleans(), st.integers(-5, 10**7), st.sampled_from(
    ["predict-number", "forecast", "tabular", "images", "yes", ""]), st.floats(allow_nan=False))


@FAST
@given(st.dictionaries(st.sampled_from([*K.by_key, "mood"]), answer_values, max_size=6),
       st.booleans())
def test_any_answers_file_gives_a_recommendation_or_a_clean_error(tmp_path_factory, saved,
                                                                   with_csv):
    lines = ["[answers]"] + [f"{key} = {json.dumps(value)}" for key, value in saved.items()]
    if with_csv:
        lines.insert(0, 'csv = "does-not-exist.csv"\ntarget = "y"')
    path = tmp_path_factory.mktemp("answers") / "answers.toml"
    path.write_text("\n".join(lines) + "\n")
    out = check(runner.invoke(app, ["recommend", "--json", "--answers", str(path)]))
    if out is not None:
        assert K.settled(out["answers"]) is not None
