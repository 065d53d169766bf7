"""Start one benchmarked command from a small process and measure it there.

Why a launcher: Linux carries a parent's peak RSS into a child at fork/exec, so a
command started straight from the runner (which holds decoded audio for the checks)
would report the runner's peak as its own. Started from this small process, the
command's ru_maxrss is its own. The byte counters in /proc/<pid>/io vanish when the
process is reaped, so they are read while it is still a zombie (WNOWAIT).

    python launch.py RESULT.json [--shell] COMMAND...
"""

import json
import os
import sys
import time


def io_counters(pid):
    try:
        with open(f"/proc/{pid}/io") as fh:
            return {
                k: int(v) for k, v in (line.split(": ") for line in fh.read().splitlines() if ": " in line)
            }
    except OSError:
        return {}


def main():
    result_path, argv = sys.argv[1], sys.argv[2:]
    if argv[0] == "--shell":
        argv = ["/bin/sh", "-c", argv[1]]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    wall = time.perf_counter() - started
    counters = io_counters(pid)
    _, status, usage = os.wait4(pid, 0)
    with open(result_path, "w") as fh:
        json.dump(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,
                "rchar": counters.get("rchar"),
                "read_bytes": counters.get("read_bytes"),
                "returncode": os.waitstatus_to_exitcode(status),
            },
            fh,
        )


if __name__ == "__main__":
    main()
