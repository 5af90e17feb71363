"""`advisor doctor`: what this machine can do for the recipes.

Versions (Python, TensorFlow, Keras, and the CUDA/cuDNN TensorFlow was built with), the
visible GPUs, whether mixed precision and XLA are usable here, where datasets are cached and
which full datasets are already there. It imports TensorFlow, so it takes a few seconds.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# Files that `--data full` leaves in the cache, by dataset.
FULL_DATASETS = {
    "mnist": ["mnist.npz"],
    "fashion-mnist": [f"fashion-mnist/{stem}.gz" for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")],
    "cifar10": ["cifar-10-batches-py"],
    "jena-climate": ["jena_climate_2009_2016.csv", "jena_climate_2009_2016.csv.zip"],
}


def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def cached_datasets(home: Path) -> dict[str, bool]:
    root = home / "datasets"
    return {name: any((root / f).exists() for f in files) if name == "jena-climate"
            else all((root / f).exists() for f in files)
            for name, files in FULL_DATASETS.items()}


def collect() -> dict:
    import keras
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append({"name": details.get("device_name", device.name),
                     "compute_capability": ".".join(map(str, details.get("compute_capability",
                                                                          ())))})
    capable = [g for g in gpus if g["compute_capability"]
               and float(g["compute_capability"]) >= 7.0]
    if capable:
        mixed = "yes: float16 tensor cores on every listed GPU of compute capability 7.0+"
    elif gpus:
        mixed = "runs, but these GPUs have no fast float16 (compute capability < 7.0)"
    else:
        mixed = "runs on CPU, but slower than float32: no float16 hardware"
    try:
        value = tf.function(lambda x: x * 2.0, jit_compile=True)(tf.constant(1.0))
        xla = f"yes ({'GPU' if gpus else 'CPU'})" if float(value) == 2.0 else "no"
    except Exception as error:  # XLA missing from this build
        xla = f"no ({type(error).__name__})"
    home = keras_home()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "built_with_cuda": bool(build.get("is_cuda_build")),
        "cuda": build.get("cuda_version"),
        "cudnn": build.get("cudnn_version"),
        "gpus": gpus,
        "mixed_precision": mixed,
        "xla": xla,
        "cpu_count": os.cpu_count(),
        "keras_home": str(home),
        "cached_datasets": cached_datasets(home),
        "debian_fashion_mnist": Path("/usr/share/datasets/fashion-mnist").is_dir(),
    }


def render(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="advisor doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    gpus = ", ".join(f"{g['name']} (cc {g['compute_capability']})" for g in report["gpus"])
    rows = [
        ("Python", report["python"]),
        ("TensorFlow", report["tensorflow"]),
        ("Keras", report["keras"]),
        ("built with CUDA / cuDNN", f"{report['cuda'] or '-'} / {report['cudnn'] or '-'}"
         if report["built_with_cuda"] else "no (CPU-only build)"),
        ("GPUs", gpus or "none visible"),
        ("mixed precision", report["mixed_precision"]),
        ("XLA (--jit)", report["xla"]),
        ("CPU cores", str(report["cpu_count"])),
        ("dataset cache (KERAS_HOME)", report["keras_home"]),
        ("full datasets cached", ", ".join(k for k, v in report["cached_datasets"].items() if v)
         or "none yet (--data full downloads them)"),
        ("Fashion-MNIST from Debian", "/usr/share/datasets/fashion-mnist"
         if report["debian_fashion_mnist"] else "not installed"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    Console().print(table)
    if not report["gpus"] and report["built_with_cuda"]:
        Console(stderr=True).print(
            "hint: no GPU visible; if this machine has one: in Docker, run with --gpus all "
            "and install the NVIDIA "
            "Container Toolkit on the host; check `nvidia-smi` works there.")
