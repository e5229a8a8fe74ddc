"""Write ``tests/durations.json``, the measured time of each slow test, from the output of
``python -m pytest --durations=0`` (the conftest runs the slowest test files first).

    python -m pytest --durations=0 > durations.log; python tests/durations.py durations.log
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

#: Tests faster than this (setup and call together) are left out: their order does not matter.
MIN_SECONDS = 2.0
LINE = re.compile(r"^(?P<seconds>[0-9.]+)s (?:call|setup|teardown)\s+(?P<nodeid>\S+)$")


def main(log: str) -> None:
    seconds: dict[str, float] = defaultdict(float)
    for line in Path(log).read_text().splitlines():
        match = LINE.match(line.strip())
        if match:
            seconds[match["nodeid"]] += float(match["seconds"])
    if not seconds:
        raise SystemExit(f"no '--durations=0' lines in {log}: run pytest with --durations=0")
    slow = {k: round(v, 1) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])
            if v >= MIN_SECONDS}
    out = Path(__file__).with_name("durations.json")
    out.write_text(json.dumps(slow, indent=1) + "\n")
    print(f"{len(slow)} tests of {MIN_SECONDS} s or more ({sum(slow.values()):.0f} s) -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
