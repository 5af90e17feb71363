"""TensorFlow's start-up chatter, kept off the terminal.

Importing TensorFlow prints lines from its C++ runtime before its logging is set up, so
TF_CPP_MIN_LOG_LEVEL cannot hide them: an absl notice, the oneDNN notice, "Could not find
cuda drivers", CPU instruction hints and, on a machine without a GPU, a `cuInit` ERROR line
that reads as a failure to a newcomer. `install()` arranges for the first
`import tensorflow` to run with the process's stderr captured, and for what it printed to be
written back without those lines: every other line, a real error among them, still shows.
Nothing is imported until then, so the advisor stays fast. TF_CPP_MIN_LOG_LEVEL=0 turns
the filter off.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

CHATTER = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^[IW]\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\]"          # absl INFO and WARNING lines
    r"|^E\d{4} [\d:.]+ +\d+ cuda_\w+\.cc:\d+\] failed call to cuInit"
    r"|^To enable the following instructions: .* rebuild TensorFlow")


@contextlib.contextmanager
def stderr_without_chatter():
    """Runs the block with file descriptor 2 captured, then writes back what it printed,
    less the chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not CHATTER.search(line)))
            sys.stderr.flush()


class QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run inside `stderr_without_chatter`; the devices are
    listed there too, since that is when a machine without a GPU reports cuInit."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with stderr_without_chatter():
            self.loader.exec_module(module)
            module.config.list_physical_devices()

    def __getattr__(self, name):
        return getattr(self.loader, name)


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = QuietLoader(spec.loader)
        return spec


def install() -> None:
    if ("tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"
            or any(isinstance(finder, QuietTensorFlow) for finder in sys.meta_path)):
        return
    sys.meta_path.insert(0, QuietTensorFlow())
