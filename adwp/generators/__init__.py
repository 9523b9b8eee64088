"""Weight generators: what predicts the weights of an architecture's network, and its training.

- :mod:`~adwp.generators.hypernet`: the hypernetwork (architecture encoding to weights);
- :mod:`~adwp.generators.supernet`: the weight-sharing supernet baseline;
- :mod:`~adwp.generators.functional`: a space's network run with generated weights;
- :mod:`~adwp.generators.samplers`: the architectures each training step draws;
- :mod:`~adwp.generators.training`: the training loop;
- :mod:`~adwp.generators.build`: a generator's settings, building it, loading a trained one;
- :mod:`~adwp.generators.checkpoint`: the checkpoint files.

The architecture encoders are the top-level package ``encoders``.
"""
