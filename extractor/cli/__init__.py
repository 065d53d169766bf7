"""The `vax` command line: one module per command, errors mapped to exit codes in one place.

An interface: it may import anything of the project; nothing of the domain, the engines or
the batch runner imports it. ``main`` installs the signal handlers before importing click
and the commands, so a signal during start-up is handled like any other.
"""

from __future__ import annotations


def main() -> None:
    from .stop import install_signal_handlers

    install_signal_handlers()
    try:
        from .app import main as run
    except KeyboardInterrupt as exc:  # a signal while the commands were being imported
        import sys

        from .stop import report_interrupted

        sys.exit(report_interrupted(exc))
    run()


def __getattr__(name: str):
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module 'extractor.cli' has no attribute {name!r}")


__all__ = ["cli", "main"]
