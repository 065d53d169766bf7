"""A long-lived process that runs `extract()` on request, so in-process timings exclude imports.

The runner writes one JSON job per line ({"input":..., "output":..., "options": {...}}) and
reads back one line: the seconds the call took, and how many of them the post-write
verification (which decodes the whole output) took.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from extractor import extract, pipeline

    spent = {"verify": 0.0}
    # The pipeline calls the verification by the name it imported: wrap it there.
    verify_output = pipeline.verify_output

    def timed_verify(*args, **kwargs):
        started = time.perf_counter()
        try:
            return verify_output(*args, **kwargs)
        finally:
            spent["verify"] += time.perf_counter() - started

    pipeline.verify_output = timed_verify
    for line in sys.stdin:
        job = json.loads(line)
        spent["verify"] = 0.0
        started = time.perf_counter()
        extract(job["input"], output=job["output"], overwrite=True, **job.get("options", {}))
        print(
            json.dumps({"seconds": time.perf_counter() - started, "verify_seconds": spent["verify"]}),
            flush=True,
        )


if __name__ == "__main__":
    main()
