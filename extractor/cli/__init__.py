"""The `vax` command line: one module per command, errors mapped to exit codes in one place.

An interface: it may import anything of the project; nothing of the domain, the engines or
the batch runner imports it.
"""

from .main import cli, main

__all__ = ["cli", "main"]
