"""Runs of many files: expand folders and patterns, run the jobs in parallel worker
processes, report each outcome through the caller's reporter, resume where a run stopped.

Modules: ``expand`` (which files), ``worker`` (one job in a worker process, through the
one pipeline), ``pool`` (the processes). Knows no interface: the CLI draws the lines.

Why processes: extraction is CPU work in Python loops around FFmpeg calls, and the GIL
serialises those loops (measured: threads 1.39 s vs two worker processes 0.65 s for 8
copies). How they start (``pool._context``): by ``fork`` when this process has no other
thread (the CLI): a worker then starts at once with PyAV already imported (0.08 s of
overhead for a batch, against 0.2 s for a fork server that must import PyAV first).
Forking a process that has other threads can deadlock (Python 3.14 stopped defaulting to
``fork`` for that reason), so a threaded caller, such as a web server, gets its workers
from a ``forkserver`` instead (``spawn`` where neither exists).

Workers never outlive the parent: each watches a pipe whose only writing end the parent
holds, and stops (removing its temporary file) when it closes, even after a SIGKILL.

Resuming: an output that already exists AND verifies against this job's plan counts as
"skipped (already done)"; one that exists but does not verify is never replaced without
``--overwrite``, it is reported as a failure (exit 8). This is the default in batch mode
(several files, a folder or a pattern) and opt-in for a single file (``--skip-existing``);
a single file otherwise keeps the plain rule: an existing output is an error (exit 8).

Stopping (Ctrl-C, SIGTERM): workers ignore SIGINT, so the terminal's Ctrl-C reaches only
the parent, which cancels the jobs not started and sends SIGTERM to the workers; a busy
worker raises ``Interrupted`` inside its job, whose ``finally`` blocks remove the
unfinished temporary file; finished outputs stay. The exit code is 130.

Exit code of a batch: 0 when nothing failed (skips are not failures); else the failures'
own exit code when they all share one, else 1.
"""
