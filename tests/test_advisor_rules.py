"""The decision table (advisor/rules.toml): complete, consistent, and right on known cases."""

import pytest

from advisor import knowledge
from advisor.cli import app
from recipes import catalog

K = knowledge.load()

NAMED = sorted({r.recipe for r in K.rules if r.recipe} | {n for r in K.rules for n in r.see_also})


@pytest.mark.parametrize("name", NAMED)
def test_every_recipe_the_table_names_exists(name):
    assert catalog.get(name) is not None, \
        f"rules.toml names recipe {name!r}, which is not in recipes/catalog.py"


def test_the_table_names_every_training_recipe():
    named = set(NAMED)
    for info in catalog.RECIPES:
        if info.name != "neuron-math":  # a worked example, not a model to choose
            assert info.name in named, info.name


def test_every_combination_of_answers_reaches_a_rule():
    combinations = list(K.completions({}))
    # goal 6 x data 4 x classes, rows (buckets) x three yes-no answers
    assert len(combinations) >= 6 * 4 * 2 * 2 * 2
    unreached = [c for c in combinations if K.decide(c) is None]
    assert unreached == []


def test_every_rule_is_reachable():
    reached = {K.decide(c).id for c in K.completions({})}
    assert reached == {r.id for r in K.rules}


def test_rule_ids_are_unique_and_fields_complete():
    assert len({r.id for r in K.rules}) == len(K.rules)
    for rule in K.rules:
        assert rule.rule and rule.model and rule.why and rule.metrics, rule.id
        assert rule.recipe or rule.estimator or rule.see_also or "No recipe" in rule.why[0], \
            rule.id


def test_advice_only_rules_say_so_and_name_an_estimator_or_a_way():
    for rule in K.rules:
        if rule.recipe is None:
            assert rule.why[0].startswith("No recipe"), rule.id
        if rule.estimator:
            assert rule.estimator.startswith("sklearn."), rule.id


DESIGN_TABLE = [
    # the design's which-model-to-choose table, exactly
    ("Basic Prediction", "LinearRegression", "linear-regression"),
    ("Feature Selection", "Lasso", "lasso-regression"),
    ("Outlier-Prone Data", "HuberRegressor", "huber-regression"),
    ("Binary Classification", "LogisticRegression", "logistic-regression"),
    ("Big Data", "SGDClassifier", "sgd-classifier"),
]


@pytest.mark.parametrize("rule, model, recipe", DESIGN_TABLE)
def test_the_design_table_is_in_the_rules(rule, model, recipe):
    matching = [r for r in K.rules if r.rule == rule]
    assert len(matching) == 1
    assert (matching[0].model, matching[0].recipe) == (model, recipe)


TABULAR_NUMBER = {"goal": "predict-number", "data": "tabular", "rows": 500,
                  "fits_in_memory": True, "outliers": False, "feature_selection": False}
TABULAR_CATEGORY = {"goal": "predict-category", "data": "tabular", "rows": 500,
                    "fits_in_memory": True}

KNOWN_CASES = [
    (TABULAR_NUMBER, "basic-prediction", "linear-regression"),
    ({**TABULAR_NUMBER, "outliers": True}, "outlier-prone", "huber-regression"),
    ({**TABULAR_NUMBER, "feature_selection": True}, "feature-selection", "lasso-regression"),
    ({**TABULAR_NUMBER, "outliers": True, "feature_selection": True}, "outlier-prone",
     "huber-regression"),
    ({**TABULAR_NUMBER, "rows": 2_000_000}, "big-data-regression", None),
    ({**TABULAR_NUMBER, "fits_in_memory": False}, "big-data-regression", None),
    ({**TABULAR_CATEGORY, "classes": 2}, "binary-classification", "logistic-regression"),
    ({**TABULAR_CATEGORY, "classes": 7}, "multiclass-classification", "softmax-regression"),
    ({**TABULAR_CATEGORY, "classes": 2, "rows": 100_000}, "big-data-classification",
     "sgd-classifier"),
    ({**TABULAR_CATEGORY, "classes": 2, "fits_in_memory": False}, "big-data-classification",
     "sgd-classifier"),
    ({"goal": "predict-category", "data": "images"}, "image-classification",
     "conv2d-classifier"),
    ({"goal": "predict-number", "data": "images"}, "image-regression", None),
    ({"goal": "forecast"}, "forecasting", "lstm-forecaster"),
    ({"goal": "predict-number", "data": "sequences"}, "sequence-regression", "lstm-forecaster"),
    ({"goal": "predict-category", "data": "sequences"}, "sequence-classification", None),
    ({"goal": "generate", "data": "images"}, "generate-images", "conditional-gan"),
    ({"goal": "generate", "data": "tabular"}, "generate-tabular", None),
    ({"goal": "generate", "data": "text"}, "generate-sequences", None),
    ({"goal": "find-groups", "rows": 5000, "fits_in_memory": True}, "grouping", None),
    ({"goal": "find-groups", "rows": 500_000}, "grouping-big", None),
    ({"goal": "reduce-dimensions", "data": "tabular"}, "reduce", None),
    ({"goal": "reduce-dimensions", "data": "text"}, "reduce-text", None),
    ({"goal": "predict-category", "data": "text"}, "text-classification", None),
    ({"goal": "predict-number", "data": "text"}, "text-regression", None),
]


@pytest.mark.parametrize("answers, rule_id, recipe", KNOWN_CASES)
def test_known_cases_map_as_expected(answers, rule_id, recipe):
    rule = K.settled(answers)
    assert rule is not None, f"answers {answers} do not settle the recommendation"
    assert (rule.id, rule.recipe) == (rule_id, recipe)


def test_the_families_the_design_describes_are_advised_by_estimator_name():
    estimators = " ".join(filter(None, [r.estimator for r in K.rules]))
    alternatives = " ".join(a for r in K.rules for a in r.alternatives)
    for name in ("KMeans", "PCA", "TruncatedSVD", "MultinomialNB"):
        assert name in estimators
    for name in ("DBSCAN", "AgglomerativeClustering", "GaussianMixture", "NMF", "TSNE",
                 "Isomap", "RandomForest", "HistGradientBoosting", "SVC", "KNeighbors"):
        assert name in alternatives, name


def test_only_questions_that_matter_are_needed():
    needed = lambda answers: [q.key for q in K.still_needed(answers)]  # noqa: E731
    assert needed({"goal": "forecast"}) == []
    assert needed({"goal": "predict-category", "data": "images"}) == []
    assert needed({"goal": "predict-category", "data": "tabular"}) == [
        "classes", "rows", "fits_in_memory"]
    assert needed({"goal": "predict-number", "data": "tabular", "rows": 10**6}) == []
    assert "classes" not in needed({"goal": "predict-number"})
    assert "outliers" not in needed({"goal": "predict-category"})
    assert needed({})[0] == "goal"


def test_numeric_buckets_straddle_every_threshold():
    assert {99_999, 100_000} <= set(K.values("rows"))
    assert {2, 3} <= set(K.values("classes"))
    assert min(K.values("classes")) == 2


def test_every_question_has_its_command_line_option():
    from typer.main import get_command

    recommend = get_command(app).commands["recommend"]
    options = {opt for param in recommend.params for opt in [*param.opts, *param.secondary_opts]}
    for question in K.questions:
        for option in question.option.split("/"):
            assert option in options, option
    from advisor.cli import DataKind, Goal

    assert [g.value for g in Goal] == list(K.by_key["goal"].choices)
    assert [d.value for d in DataKind] == list(K.by_key["data"].choices)


def test_questions_have_text_help_and_a_valid_default():
    for question in K.questions:
        assert question.text.endswith("?") and question.help, question.key
        if question.kind == "choice":
            assert question.default in question.choices
        elif question.kind == "number":
            assert question.default >= (question.min or 0)
        else:
            assert isinstance(question.default, bool)


def test_every_yes_no_question_has_a_safer_answer_and_says_how_to_tell():
    for question in K.questions:
        if question.kind == "yes-no":
            assert isinstance(question.unsure, bool), question.key
            assert len(question.how_to_tell) > 40, question.key


def test_a_rule_about_an_unknown_answer_is_refused(tmp_path):
    bad = tmp_path / "rules.toml"
    text = knowledge.RULES_FILE.read_text().replace('when = { goal = "forecast" }',
                                                     'when = { gaol = "forecast" }')
    bad.write_text(text)
    with pytest.raises(ValueError, match="gaol"):
        knowledge.load(bad)


def test_comparisons_and_lists_in_conditions():
    rule = knowledge.Rule(id="x", rule="x", model="x", why=("x",), alternatives=(),
                          metrics=("x",), when={"rows": ">= 10", "data": ["text", "images"]})
    assert rule.matches({"rows": 10, "data": "text"})
    assert not rule.matches({"rows": 9, "data": "text"})
    assert not rule.matches({"rows": 10, "data": "tabular"})
    assert not rule.matches({"data": "text"})  # a missing answer never matches
    assert not rule.matches({"rows": True, "data": "text"})
