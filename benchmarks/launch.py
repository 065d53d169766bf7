"""Start one benchmarked command from a small process and measure it there.

Why a launcher: Linux carries a parent's peak RSS into a child at fork/exec, so a
command started straight from the runner (which holds decoded audio for the checks)
would report the runner's peak as its own. Started from this small process, the
command's ru_maxrss is its own. The byte counters in /proc/<pid>/io vanish when the
process is reaped, so they are read while it is still a zombie (WNOWAIT).

ru_maxrss is the largest single process; a command that forks workers holds the sum of
theirs at once. With --tree a thread samples the whole process tree every TREE_INTERVAL
seconds: the sum of RSS (which counts pages shared by forked workers once per process, an
upper bound) and the sum of PSS (shared pages split between their sharers: what the tree holds).

    python launch.py RESULT.json [--tree] [--shell] COMMAND...
"""

import json
import os
import sys
import threading
import time

TREE_INTERVAL = 0.2
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_memory_kb(pid):
    """(RSS, PSS) summed over pid and every descendant, in KB; a process gone while read adds 0."""
    rss = pss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                rss += int(fh.read().split()[1]) * PAGE // 1024
            with open(f"/proc/{current}/smaps_rollup") as fh:
                pss += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return rss, pss


class TreeSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.rss, self.pss, self.done = pid, 0, 0, threading.Event()

    def run(self):
        while not self.done.wait(TREE_INTERVAL):
            rss, pss = tree_memory_kb(self.pid)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)


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
    tree = argv[0] == "--tree"
    if tree:
        argv = argv[1:]
    if argv[0] == "--shell":
        argv = ["/bin/sh", "-c", argv[1]]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    sampler = TreeSampler(pid) if tree else None
    if sampler:
        sampler.start()
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    wall = time.perf_counter() - started
    if sampler:
        sampler.done.set()
        sampler.join()
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
                "tree_rss_peak_kb": sampler.rss if sampler else None,
                "tree_pss_peak_kb": sampler.pss if sampler else None,
            },
            fh,
        )


if __name__ == "__main__":
    main()
