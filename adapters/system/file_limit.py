"""How many files (sockets included) this process and its children may hold open: raised when too low.

Every connection a worker serves is an open file. A container often starts with a soft limit of 1024 (the hard limit
being far higher), which a worker holding its live change streams and its other connections would pass. Python leaves
the soft limit where it finds it; granian 2.8.7 happens to raise it to the hard limit when imported, which it does not
document. So ``crm serve`` raises it itself before it starts granian, and says when the hard limit is too low.
"""

from __future__ import annotations

import resource


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft limit of open files to ``wanted``, or as far as the hard limit allows; the limit after it,
    counted up to ``wanted`` (so below ``wanted`` means too low).

    Child processes started afterwards inherit it. A limit already high enough is left alone.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        # The kernel's own ceiling (fs.nr_open) can be below an infinite hard limit.
        return soft
    return target
