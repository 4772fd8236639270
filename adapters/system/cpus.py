"""How many CPUs this process may really use: in a container, its CPU quota, not the node's core count."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPU quota of the cgroup (cgroup v2 ``cpu.max``) rounded up, else the CPUs we may run on."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cpus
    if quota == "max":
        return cpus
    try:
        return max(1, min(cpus, math.ceil(int(quota) / int(period))))
    except (ValueError, ZeroDivisionError):
        return cpus
