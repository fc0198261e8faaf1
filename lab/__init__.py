"""DL Lab's PyTorch backend: data, models written from scratch, one training loop, metrics.

Usable from a plain script; it never imports a UI package. Import the submodules you need,
e.g. `from lab.logistic import propagate`.
"""

__version__ = "0.1.0"
