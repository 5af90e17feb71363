"""Textbook Keras implementations, as the official tutorials write them: numpy arrays into
`fit`, the default batch size of 32, no tf.data, no XLA. They are the yardsticks, not recipes."""
