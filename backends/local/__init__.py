"""The local PyAV engine: stream copy, or decode -> trim -> resample -> encode, and its writers.

Imports the domain (plan, policy, errors, frame helpers) and never an interface.
"""

from .engine import LocalBackend

__all__ = ["LocalBackend"]
