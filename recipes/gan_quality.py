"""How good a conditional GAN's images are: the conditional accuracy and the diversity.

Losses say little about a GAN: they measure the two networks against each other, not the
images. The score here is the conditional accuracy: draw a fixed number of images of each
class, have a classifier trained on the real images name them, and count how often it names
the class that was asked for. Chance is 1/classes; the classifier's accuracy on real test
images is the ceiling. Two more numbers catch failures that accuracy alone can hide:

- `distinct_classes`: how many different classes the classifier sees among the images of each
  requested class, and `classes_seen` over all of them. A generator that ignores the label
  (mode collapse onto one class) shows up as 1 class seen everywhere with accuracy near chance.
- `diversity`: the mean pixel distance between two generated images of a class, divided by
  the same for two real images of that class. Near 1 the generator varies as much as the
  data; near 0 it draws the same image over and over.

The judging classifier is the conv2d-classifier recipe's model, trained once on the same
real training images and cached under KERAS_HOME (keyed by a hash of the data and the
number of epochs), or a .keras classifier of your own.

This is also the conditional-gan recipe's `run_steps` (recipes/catalog.py): the runner adds
its options (--classifier, --classifier-epochs, --samples-per-class), picks the judge
before training (`before_training`), scores the run after it (`after_training`), and
`advisor generate conditional-gan` is `generate_main`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recipes import common, data
from recipes import conditional_gan as cgan
from recipes.common import ExitStatus, RecipeError, RunDir

CLASSIFIER_MIN_ACCURACY = 0.5  # on real test images; below this the classifier is not for this data


def load_classifier(classifier):
    """A classifier model, or the path of a .keras file holding one."""
    if not isinstance(classifier, (str, os.PathLike)):
        return classifier
    return load_keras_file(Path(classifier), what="classifier")


def load_keras_file(path: Path, what: str):
    import keras

    if not path.exists():
        raise RecipeError(f"{what} {path}: no such file",
                                 hint="give the path of a .keras file saved by a recipe")
    if path.is_dir() or path.suffix != ".keras":
        raise RecipeError(f"{what} {path} is not a .keras file",
                                 hint="give the path of a .keras file saved by a recipe")
    import zipfile

    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a damaged file
        raise RecipeError(f"{what} {path} is damaged or not a Keras model "
                                 "(a .keras file is a zip archive)",
                                 hint="save the model again with model.save(path)")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # BadZipFile, ValueError, OSError, TypeError ...
        reason = " ".join(str(error).split())[:120] or type(error).__name__
        raise RecipeError(f"cannot load {what} {path}: {reason}",
                                 hint="the file may be truncated or not a Keras model; "
                                      "save it again with model.save(path)") from None


def predict_classes(classifier, images: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Class indices for float images in [0, 1] (times `scale`)."""
    classifier = load_classifier(classifier)
    outputs = classifier.predict(np.asarray(images, dtype="float32") * scale, batch_size=1000,
                                 verbose=0)
    return np.asarray(outputs).reshape(len(images), -1).argmax(axis=1)


def conditional_accuracy(images: np.ndarray, requested, classifier, num_classes: int,
                         class_names: Sequence[str] | None = None, scale: float = 1.0) -> dict:
    """How often `classifier` sees in each image the class that was requested for it.

    images: float in [0, 1] (N, H, W, C); requested: the N class indices asked for;
    classifier: a Keras model (or .keras path) mapping such images to class scores.
    Returns overall and per-class accuracy, the classes seen per requested class and the
    confusion matrix (rows: requested, columns: seen).
    """
    requested = np.asarray(requested).astype(int).ravel()
    if len(requested) != len(images):
        raise ValueError(f"{len(images)} images but {len(requested)} requested labels")
    seen = predict_classes(classifier, images, scale)
    if seen.max(initial=0) >= num_classes:
        raise RecipeError(
            f"the classifier predicts {seen.max() + 1}+ classes, the data has {num_classes}",
            hint="give a classifier trained on the same dataset")
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (requested, seen), 1)
    per_class, distinct = {}, {}
    for c in range(num_classes):
        total = matrix[c].sum()
        if total == 0:
            continue
        per_class[names[c]] = float(matrix[c, c] / total)
        distinct[names[c]] = int((matrix[c] > 0).sum())
    return {
        "accuracy": float(np.trace(matrix) / max(len(requested), 1)),
        "per_class": per_class,
        "distinct_classes": distinct,
        "classes_seen": int((matrix.sum(axis=0) > 0).sum()),
        "chance": 1.0 / num_classes,
        "samples": int(len(requested)),
        "confusion_matrix": matrix.tolist(),
    }


def diversity(generated: np.ndarray, requested, real: np.ndarray, real_labels,
              num_classes: int, class_names: Sequence[str] | None = None,
              pairs: int = 2000, seed: int = 0) -> dict:
    """Mean distance between two images of a class, generated relative to real (1 = as varied)."""
    rng = np.random.default_rng(seed)
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    requested = np.asarray(requested).ravel()
    real_labels = np.asarray(real_labels).ravel()

    def spread(x):
        x = np.asarray(x, dtype="float32").reshape(len(x), -1)
        if len(x) < 2:
            return float("nan")
        i, j = rng.integers(0, len(x), pairs), rng.integers(0, len(x), pairs)
        keep = i != j
        return float(np.sqrt(((x[i[keep]] - x[j[keep]]) ** 2).sum(axis=1)).mean())

    per_class = {}
    for c in range(num_classes):
        fake, true = generated[requested == c], real[real_labels == c]
        if len(fake) >= 2 and len(true) >= 2:
            per_class[names[c]] = spread(fake) / max(spread(true), 1e-8)
    values = list(per_class.values())
    return {"mean": float(np.mean(values)) if values else float("nan"), "per_class": per_class}


def check_classifier(classifier, x_test: np.ndarray, y_test: np.ndarray, num_classes: int,
                     minimum: float = CLASSIFIER_MIN_ACCURACY):
    """Accuracy on real test images, and the input scale it expects (1 for [0, 1], 255 for 0-255).

    A classifier of another dataset (or image size) would make the score meaningless, so one
    below `minimum` is refused.
    """
    classifier = load_classifier(classifier)
    images = x_test.astype("float32") / 255.0
    best = (-1.0, 1.0)
    for scale in (1.0, 255.0):
        try:
            seen = predict_classes(classifier, images, scale)
        except Exception as error:  # wrong input shape or dtype: ValueError, InvalidArgument...
            reason = " ".join(str(error).split())[:120]
            raise RecipeError(
                f"the classifier cannot read images of shape {images.shape[1:]}: {reason}",
                hint="give a classifier trained on this dataset") from None
        accuracy = float((seen == y_test).mean())
        best = max(best, (accuracy, scale))
        if accuracy >= CLASSIFIER_MIN_ACCURACY:
            break
    accuracy, scale = best
    if accuracy < minimum:
        raise RecipeError(
            f"the classifier names only {accuracy:.0%} of the real test images right",
            hint="give a classifier trained on this dataset, or leave --classifier out to "
                 "train one")
    return accuracy, scale


def evaluate(model, classifier, num_classes: int, samples_per_class: int = 100,
             seed: int = 0, class_names: Sequence[str] | None = None, scale: float = 1.0,
             real: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Conditional accuracy (and diversity, given real images) of a generator or GAN."""
    generator = getattr(model, "generator", model)
    latent_dim = int(generator.inputs[0].shape[-1])
    requested = np.repeat(np.arange(num_classes), samples_per_class)
    images = cgan.generate_images(generator, requested,
                                 cgan.noise_for(len(requested), latent_dim, seed))
    result = conditional_accuracy(images, requested, classifier, num_classes, class_names,
                                  scale)
    if real is not None:
        x_real, y_real = real
        result["diversity"] = diversity(images, requested, x_real.astype("float32") / 255.0,
                                        y_real, num_classes, class_names, seed=seed)
    return result


def data_fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(str(x.shape).encode())
    digest.update(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).astype(np.int64).tobytes())
    return digest.hexdigest()[:16]


def classifier_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "keras-recipes" / "classifiers"


def cached_classifier(images: data.ImageData, verbose: int = 1, epochs: int | None = None):
    """The conv2d-classifier model trained on `images`' training set, from the cache if there.

    Returns (model, path of the cached file, or None where it could not be cached).
    """
    import keras

    from recipes import conv2d_classifier

    config = conv2d_classifier.Config()
    if epochs is not None:
        config.epochs = epochs
    fingerprint = data_fingerprint(images.x_train, images.y_train)
    # The name holds what decides the weights: the data, the epochs and the rate schedule.
    path = (classifier_cache_dir()
            / f"conv2d-classifier-{fingerprint}-{config.epochs}ep-cosine.keras")
    if path.is_file():
        try:
            return keras.saving.load_model(path, safe_mode=True), path
        except Exception:  # a damaged cache entry is trained again
            path.unlink(missing_ok=True)
    if verbose:
        print(f"training the judging classifier ({conv2d_classifier.NAME}, "
              f"{config.epochs} epochs) once; cached in {path}", file=sys.stderr)
    model = conv2d_classifier.build_model(images.input_shape, images.num_classes, config,
                                          train_examples=len(images.x_train))
    conv2d_classifier.train(model, images.x_train, images.y_train, config, verbose=verbose)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        RunDir(path.parent).save_model(model, path.name)
    except OSError as error:
        print(f"warning: could not cache the classifier in {path.parent} ({error.strerror}); "
              "it will be trained again next time", file=sys.stderr)
        return model, None
    return model, path


def judge(images: data.ImageData, classifier: Path | None = None, epochs: int | None = None,
          verbose: int = 1):
    """The classifier that scores a run, a description of it for metrics.json, and the input
    scale it expects: `classifier` (a .keras path) or the cached conv2d-classifier."""
    if classifier is not None:
        model, where = load_classifier(classifier), str(classifier)
    else:
        model, path = cached_classifier(images, verbose=verbose, epochs=epochs)
        where = str(path) if path else "trained for this run (the cache was not writable)"
    # A classifier given by path must suit the data; the one trained here does by
    # construction, and a weak one (few images, few epochs) only earns a warning.
    accuracy, scale = check_classifier(
        model, images.x_test, images.y_test, images.num_classes,
        minimum=CLASSIFIER_MIN_ACCURACY if classifier is not None else 0.0)
    if accuracy < CLASSIFIER_MIN_ACCURACY:
        print(f"warning: the judging classifier names only {accuracy:.0%} of the real test "
              "images right, so the conditional accuracy is a rough one; train it longer "
              "(--classifier-epochs) or on more images", file=sys.stderr)
    return model, {"path": where, "given": classifier is not None,
                   "real_test_accuracy": accuracy, "input_scale": scale}, scale


# --------------------------------------------------------------------------
# The runner's steps for conditional-gan
# --------------------------------------------------------------------------


def add_options(parser) -> None:
    judge_options = parser.add_argument_group("conditional accuracy")
    judge_options.add_argument(
        "--classifier", type=Path, default=None, metavar="PATH",
        help="a .keras classifier of this dataset to judge the samples; without it the "
             "conv2d-classifier recipe's model is trained once on the real training images "
             "and cached under KERAS_HOME")
    judge_options.add_argument("--classifier-epochs", type=common.positive_int, default=None,
                               help="epochs for that cached classifier; without it, the "
                                    "conv2d-classifier recipe's own")
    judge_options.add_argument("--samples-per-class", type=common.positive_int, default=100,
                               help="generated images per class to score")


def before_training(args, images: data.ImageData, verbose: int):
    """The judge, chosen before any training is spent: (classifier, description, scale)."""
    return judge(images, args.classifier, epochs=args.classifier_epochs, verbose=verbose)


def after_training(state, gan, images: data.ImageData, args) -> tuple[dict, dict]:
    """The conditional accuracy for metrics.json, and the lines of the printed summary."""
    classifier, judge_info, scale = state
    quality = evaluate(gan, classifier, images.num_classes, args.samples_per_class,
                       class_names=images.class_names, scale=scale,
                       real=(images.x_test, images.y_test))
    summary = {"conditional_accuracy": quality["accuracy"], "chance": quality["chance"],
               "classifier_real_accuracy": judge_info["real_test_accuracy"],
               "classes_seen": quality["classes_seen"],
               "diversity": quality["diversity"]["mean"],
               **{f"accuracy[{name}]": value for name, value in quality["per_class"].items()}}
    return {"conditional_accuracy": quality["accuracy"], "quality": quality,
            "classifier": judge_info}, summary


# --------------------------------------------------------------------------
# advisor generate conditional-gan
# --------------------------------------------------------------------------

MAX_COUNT = 1000


def load_generator(path: Path | str):
    """Loads a generator saved by conditional-gan, refusing any other model with a clear error."""
    path = Path(path)
    model = load_keras_file(path, what="model")
    inputs = getattr(model, "inputs", None) or []
    embeddings = [layer for layer in getattr(model, "layers", [])
                  if type(layer).__name__ == "Embedding"]
    shaped = (len(inputs) == 2 and len(inputs[0].shape) == 2 and tuple(inputs[1].shape) ==
              (None, 1) and len(model.outputs) == 1 and len(model.outputs[0].shape) == 4)
    if not shaped or not embeddings:
        raise RecipeError(
            f"{path} is not a conditional-GAN generator (it does not take noise and a label "
            "and return images)",
            hint="give the generator.keras written by a conditional-gan run")
    return model, int(embeddings[0].input_dim)


def class_names_for(model_path: Path, num_classes: int, dataset: str | None = None) -> list[str]:
    """Names for the generator's classes: from --dataset, the run's metrics.json, or 0..n-1."""
    if dataset is not None:
        return list(data.IMAGE_DATASETS[dataset]["classes"])[:num_classes]
    beside = Path(model_path).parent / "metrics.json"
    try:
        names = json.loads(beside.read_text())["class_names"]
        if isinstance(names, list) and len(names) == num_classes:
            return [str(n) for n in names]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [str(i) for i in range(num_classes)]


def parse_label(text: str, class_names: Sequence[str]) -> int:
    """A label given by class name (any case) or by index."""
    lowered = [name.lower() for name in class_names]
    if text.strip().lower() in lowered:
        return lowered.index(text.strip().lower())
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and 0 <= index < len(class_names):
        return index
    names = ", ".join(class_names)
    raise RecipeError(
        f"--label {text!r} is not one of this generator's {len(class_names)} classes",
        hint=f"give an index 0-{len(class_names) - 1} or a name: {names}",
        exit_code=ExitStatus.USAGE)


def parse_generate_args(argv: Sequence[str] | None):
    parser = common.Parser(
        prog="advisor generate conditional-gan",
        description="Draw COUNT images of one class from a generator saved by a "
                    "conditional-gan run, as a PNG grid.")
    parser.add_argument("--model", type=Path, required=True,
                        help="the generator.keras of a conditional-gan run")
    parser.add_argument("--label", required=True,
                        help="the class to draw, by index (7) or name (Sneaker)")
    parser.add_argument("--count", type=common.positive_int, default=16,
                        help=f"how many images, at most {MAX_COUNT} (default: 16)")
    parser.add_argument("--output", type=Path, required=True, help="the PNG file to write")
    parser.add_argument("--columns", type=common.positive_int, default=8,
                        help="images per row of the grid (default: 8)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the noise, for the same images every time (default: "
                             "new ones each call)")
    parser.add_argument("--dataset", choices=list(cgan.CLASS_NAMES), default=None,
                        help="class names to accept for --label (default: those in the run's "
                             "metrics.json beside the model)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.count > MAX_COUNT:
        parser.error(f"--count {args.count} is more than {MAX_COUNT}")
    return args


def _generate(argv: Sequence[str] | None) -> int:
    import keras

    args = parse_generate_args(argv)
    output: Path = args.output
    if output.suffix.lower() != ".png":
        raise RecipeError(f"--output {output} is not a .png file",
                          hint="give a file name ending in .png", exit_code=ExitStatus.USAGE)
    if output.is_dir():
        raise RecipeError(f"--output {output} is a directory",
                          hint="give a file name ending in .png")
    if not output.parent.is_dir():
        raise RecipeError(f"--output directory {output.parent} does not exist",
                          hint="create it first, or write the PNG elsewhere")
    if output.exists() and not args.overwrite:
        raise RecipeError(f"{output} already exists",
                          hint="choose another --output, or add --overwrite")
    generator, num_classes = load_generator(args.model)
    names = class_names_for(args.model, num_classes, args.dataset)
    label = parse_label(args.label, names)
    images = cgan.generate(generator, label, args.count, seed=args.seed)
    with RunDir(output.parent).atomic(output.name) as tmp:
        keras.utils.save_img(tmp, cgan.tile(images, min(args.columns, args.count)), scale=False)
    result = {"output": str(output), "label": label, "class_name": names[label],
              "count": args.count, "image_shape": list(images.shape[1:]), "seed": args.seed}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"wrote {output} ({args.count} x {names[label]})", file=sys.stderr)
    return 0


def generate_main(argv: Sequence[str] | None = None) -> int:
    """`advisor generate conditional-gan --model PATH --label L --count N --output FILE.png`."""
    return common.run_cli(_generate, argv)
