"""What the full command line of conditional-gan and lstm-forecaster adds around the recipe's
own `train`: the run directory's checkpoint, `--resume`, Ctrl-C, the NaN guard and the log
(as `engine.fit` does for the other recipes), and the recipe's errors as one-line ones.

The recipe files run alone and know nothing of this; `recipes/conditional_gan_cli.py` and
`recipes/lstm_forecaster_cli.py` call them through here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from recipes import engine
from recipes.common import RecipeError, RunDir


def fit(train: Callable[[list], object], model, *, run: RunDir, epochs: int,
        callbacks: Sequence = (), loss_keys: Sequence[str] = ("loss",),
        first_batches: Callable[[], object] | None = None) -> dict[str, list[float]]:
    """Calls `train(callbacks)` (the recipe's `train` with these callbacks added) with a
    checkpoint in `run`, so that an interrupted run continues with `--resume`; returns the
    history of every epoch, those before a resume included.

    Callbacks with a `resume(history)` method get the history of the epochs a checkpoint
    restored. `first_batches` makes a dataset like the one the recipe trains on; it is
    needed only under MultiWorkerMirroredStrategy (keras#20585, see engine.py)."""
    if first_batches is not None and engine._is_multi_worker(model):
        engine._prepare_multi_worker(model, first_batches(), None)
    return engine.checkpointed(
        # the recipe's callbacks go before the engine's last, which replays a resumed history
        lambda engine_callbacks: train([*engine_callbacks[:-1], *callbacks,
                                        engine_callbacks[-1]]),
        run=run, epochs=epochs, callbacks=callbacks, loss_keys=loss_keys)


@contextlib.contextmanager
def recipe_errors(recipe) -> Iterator[None]:
    """A recipe file's own RecipeError as the project's, so `common.run_cli` reports it."""
    try:
        yield
    except recipe.RecipeError as error:
        raise RecipeError(error.message, hint=error.hint, exit_code=error.exit_code) from None
