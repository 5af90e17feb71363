"""A run's terminal output is the recipe's own: TensorFlow's start-up chatter is filtered,
real errors are not."""

import subprocess
import sys

from recipes import quiet

CHATTER = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796185818.602260   12126 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1796185818.602665   12126 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1796185853.715439   12126 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
"""  # noqa: E501


def test_the_chatter_lines_are_recognised_and_real_errors_are_not():
    assert all(quiet.CHATTER.search(line) for line in CHATTER.splitlines())
    for real in ["E0000 00:00:1.0  1 op_kernel.cc:1] OOM when allocating tensor",
                 "error: data.csv has no column 'y'", "Traceback (most recent call last):"]:
        assert not quiet.CHATTER.search(real)


def test_importing_tensorflow_through_the_recipes_prints_only_what_matters():
    code = ("import sys, recipes, tensorflow as tf; tf.constant(1) + 1; "
            "print('a real problem', file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert run.stderr.strip() == "a real problem", run.stderr
