"""The choice of execution engine (the interface they share is ``engine_base.Engine``)."""

from __future__ import annotations

import os

from extractor.errors import UsageError

from .engine_base import Engine


def make_engine(name: str, *, workers: int | None = None, address: str | None = None) -> Engine:
    """``local``: a pool of processes here; ``dask``: a Dask cluster, local unless an address
    is given (or DASK_SCHEDULER_ADDRESS is set)."""
    from extractor.batch.expand import available_cores

    if name == "local":
        if address:
            raise UsageError("--address needs --engine dask")
        from .local_engine import LocalEngine

        return LocalEngine(workers or available_cores())
    if name == "dask":
        from .dask_engine import DaskEngine

        address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        return DaskEngine(workers=workers or available_cores(), address=address)
    raise UsageError(f"unknown engine {name!r}; choose local or dask")
