"""What the cloud client itself costs per job, measured against the fake NemoVideo server.

The fake server answers instantly except for a simulated network latency added to every
request, and renders instantly (one "processing" poll). So for each cloud job:

    client overhead = wall time - requests x latency - polls x poll interval - local extraction

where "local extraction" is the same output made by the local engine from the rendered MP4
directly (the step the cloud path ends with). What is left is this client's own work: auth,
session, multipart streaming, SSE parsing, polling, the download, re-planning. Against a real
endpoint the difference is dominated by the service: 20-40 s of rendering for a 3-minute clip
plus the upload (see the field notes), so this figure only needs to be small next to that.

    python -m benchmarks.remote_overhead [--runs 7] [--latency 0.02] [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

POLL_INTERVAL = 0.05


def measure(runs: int, latency: float, seconds: float) -> dict:
    from backends.local import LocalBackend
    from backends.remote import RemoteBackend
    from extractor import extract
    from fixtures.generate import Tone, Video, make_media
    from fixtures.undecodable import make_undecodable
    from tests.fakenemo import FakeNemo

    with tempfile.TemporaryDirectory(prefix="vax-remote-bench-") as folder:
        folder = Path(folder)
        os.environ.update({"XDG_CONFIG_HOME": str(folder / "config"), "VAX_REMOTE_POLL_INTERVAL": str(POLL_INTERVAL),
                           "VAX_REMOTE_BACKOFF": "0"})
        os.environ.pop("NEMO_TOKEN", None)
        source = make_undecodable(folder / "clip.mkv", duration=seconds)
        rendered = make_media(folder / "render.mp4", duration=seconds, tones=[Tone(660.0)], video=Video())
        backends = {"local": LocalBackend(), "remote": RemoteBackend()}
        cloud, local, requests, polls = [], [], [], []
        with FakeNemo(rendered, latency=latency) as fake:
            fake.heartbeat_interval = 0.0  # the agent "answers" at once: only the client is timed
            for run in range(runs + 1):  # the first run warms imports and the token cache; not counted
                before_requests, before_polls = len(fake.requests), fake.count("render_poll")
                started = time.perf_counter()
                extract(source, backends=backends, allow_cloud=True, remote_url=fake.url, format="wav",
                        output=str(folder / f"cloud{run}.wav"))
                took = time.perf_counter() - started
                started = time.perf_counter()
                extract(rendered, backends=backends, format="wav", output=str(folder / f"local{run}.wav"))
                local_took = time.perf_counter() - started
                if run:
                    cloud.append(took)
                    local.append(local_took)
                    requests.append(len(fake.requests) - before_requests)
                    polls.append(fake.count("render_poll") - before_polls)
        size = source.stat().st_size
    cloud_s, local_s = statistics.median(cloud), statistics.median(local)
    n_requests, n_polls = statistics.median(requests), statistics.median(polls)
    waits = n_requests * latency + n_polls * POLL_INTERVAL
    return {
        "runs": runs, "clip_seconds": seconds, "upload_bytes": size, "latency_per_request": latency,
        "requests_per_job": n_requests, "render_polls_per_job": n_polls,
        "cloud_job_median": round(cloud_s, 4), "local_extraction_median": round(local_s, 4),
        "simulated_waits": round(waits, 4),
        "client_overhead": round(cloud_s - waits - local_s, 4),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the test clip")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.runs, args.latency, args.seconds)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"cloud job (fake server, {args.latency * 1000:.0f} ms/request): {result['cloud_job_median']:.3f} s median "
          f"of {args.runs}; {result['requests_per_job']:g} requests, {result['render_polls_per_job']:g} polls")
    print(f"  simulated network and polling waits: {result['simulated_waits']:.3f} s")
    print(f"  local extraction from the rendered MP4: {result['local_extraction_median']:.3f} s")
    print(f"  client overhead per job: {result['client_overhead']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
