"""The Keras callbacks the runner adds to a recipe's `fit`: Ctrl-C that stops between steps,
the random generators' state kept with the checkpoint, and the hand-over of a resumed run's
history to the callbacks that keep their own memory.

Kept apart from engine.py so that importing engine (as the recipes not yet on the runner do
at start-up) still does not import Keras.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np


class StopOnCtrlC(keras.callbacks.Callback):
    """Ctrl-C during `fit` stops at the end of the current step, not inside TensorFlow.

    The first SIGINT only sets a flag, and the next batch boundary raises KeyboardInterrupt
    from Python: a KeyboardInterrupt raised in the middle of TensorFlow's runtime can crash
    the process. A second Ctrl-C interrupts at once.
    """

    def __init__(self):
        super().__init__()
        self.requested = False

    def _check(self, *args, **kwargs):
        if self.requested:
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = _check

    @contextlib.contextmanager
    def installed(self):
        """Catches SIGINT while the block runs (only the main thread can)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self.requested:
                signal.default_int_handler(signum, frame)
            self.requested = True

        signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class SeedStates(keras.callbacks.Callback):
    """BackupAndRestore checkpoints the weights and the optimizer but not the state of the
    layers' random generators (Dropout's, augmentation's): without it a resumed run draws
    other dropout masks than an unbroken one. This keeps that state beside the checkpoint,
    one file per epoch it holds (the last two, as BackupAndRestore keeps two), and puts it
    back when BackupAndRestore (which must come first) resumes from that epoch."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = Path(directory)

    def _states(self) -> list:
        return [v for v in self.model.variables if "seed_generator_state" in v.path]

    def _file(self, epochs_done: int) -> Path:
        return self.directory / f"seed-states-{epochs_done}.npz"

    def on_train_begin(self, logs=None):
        start = getattr(self.model, "_initial_epoch", None) or 0
        if not start or not self._file(start).is_file():
            return
        with np.load(self._file(start)) as saved:
            for index, variable in enumerate(self._states()):
                variable.assign(saved[f"state{index}"])

    def on_epoch_end(self, epoch, logs=None):
        if not self.directory.is_dir():
            return
        states = {f"state{i}": keras.ops.convert_to_numpy(v)
                  for i, v in enumerate(self._states())}
        partial = self.directory / ".seed-states.npz"
        np.savez(partial, **states)
        os.replace(partial, self._file(epoch + 1))
        self._file(epoch - 1).unlink(missing_ok=True)


class ResumeHistory(keras.callbacks.Callback):
    """After BackupAndRestore has restored a checkpoint (its `on_train_begin` comes first),
    hands each callback with a `resume` method the history of the epochs restored."""

    def __init__(self, read_history: Callable[[], dict], callbacks: Sequence, epochs: int):
        super().__init__()
        self.read_history = read_history
        self.waiting = [c for c in callbacks if hasattr(c, "resume")]
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        # BackupAndRestore tells `fit` where to start through this attribute.
        start = getattr(self.model, "_initial_epoch", None) or 0
        if not start or not self.waiting:
            return
        history = {k: v[:start] for k, v in self.read_history().items()}
        for callback in self.waiting:
            callback.resume(history)
        if self.model.stop_training:  # it had stopped before the interruption
            self.model._initial_epoch = self.epochs
