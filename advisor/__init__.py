"""The advisor: asks about your use case, recommends a model, and hands you a recipe that runs.

Nothing here imports TensorFlow or Keras at module level (ruff's banned-module-level-imports
keeps it so): `advisor --help`, `list` and friends answer in a fraction of a second.
"""
