#!/usr/bin/env python3
"""Whole-process timings the way a shell user sees them: each command runs
REPEAT times, the commands taking turns (so that a slow moment of a shared
machine hits all of them alike), and the median wall time and the peak
resident memory (wait4's ru_maxrss, the command and what it waited for) are
printed as one JSON object per command.
usage: e2e_time.py REPEAT NAME 'SHELL COMMAND' [NAME 'SHELL COMMAND' ...]"""
import json
import os
import statistics
import sys
import time


def run(cmd):
    start = time.perf_counter()
    pid = os.spawnvp(os.P_NOWAIT, "/bin/sh", ["/bin/sh", "-c", cmd])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("e2e_time: failed (%d): %s" % (os.waitstatus_to_exitcode(status), cmd))
    return wall, usage.ru_maxrss


def main():
    repeat = int(sys.argv[1])
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    walls = {name: [] for name, _ in pairs}
    rss = {name: 0 for name, _ in pairs}
    for _ in range(repeat):
        for name, cmd in pairs:
            wall, peak = run(cmd)
            walls[name].append(wall)
            rss[name] = max(rss[name], peak)
    for name, _ in pairs:
        print(json.dumps({"name": name, "median_s": statistics.median(walls[name]), "min_s": min(walls[name]),
                          "runs": len(walls[name]), "peak_rss_kib": rss[name]}))


if __name__ == "__main__":
    main()
