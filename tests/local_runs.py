"""Running one spec on the local engine, as the segment tests do."""

from __future__ import annotations

from backends import LocalBackend
from extractor import JobSpec
from extractor.api import run_spec


def run_local(source, folder, fmt, **options):
    """The one result of converting ``source`` to ``fmt`` into ``folder`` on the local backend."""
    (result,) = run_spec(JobSpec.build(str(source), format=fmt, output=f"{folder}/", **options),
                         backends={"local": LocalBackend()})
    return result
