#!/usr/bin/env python3
"""Runs a command and prints its peak resident memory in KiB (the
getrusage of the child, which counts mapped file pages as /usr/bin/time
does). Exits with the command's status.
usage: peak_rss.py CMD [ARGS...]"""
import os
import resource
import subprocess
import sys

status = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(status)
