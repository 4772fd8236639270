"""Where the time goes, from a py-spy profile in collapsed-stack form (``bench.run --profile-dir``).

    .venv/bin/python -m bench.profile_summary var/bench-profiles/get.txt [--top 25]

Prints the share of samples by package (the innermost frame's), and the functions with the largest
inclusive and self shares. py-spy samples the worker's Python stacks; time the worker spends idle
(waiting for PostgreSQL or the network) is not sampled, so shares are of the worker's busy time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# Innermost frames are put under the first of these whose marker is in their file name.
PACKAGES = (
    ("sqlalchemy/", "SQLAlchemy"),
    ("asyncpg/", "asyncpg"),
    ("litestar/", "Litestar"),
    ("prometheus_client/", "prometheus_client"),
    ("structlog/", "structlog"),
    ("logging/", "logging"),
    ("jwt/", "pyjwt"),
    ("msgspec/", "msgspec"),
    ("dependency_injector/", "dependency_injector"),
    ("asyncio/", "asyncio"),
    ("uvloop/", "uvloop"),
    ("granian/", "granian"),
    ("adapters/", "project: adapters"),
    ("application/", "project: application"),
    ("domain/", "project: domain"),
    ("crm/", "project: crm"),
)


def package_of(frame: str) -> str:
    return next((name for marker, name in PACKAGES if marker in frame), "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf[frames[-1]] += count
        packages[package_of(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples\n\nBy package (innermost frame):")
    for name, count in packages.most_common():
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("\nInclusive:")
    for frame, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print("\nSelf:")
    for frame, count in leaf.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
