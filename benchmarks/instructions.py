"""Instructions per request, counted by valgrind: a measure of the server's own cost that, unlike a
timing, does not move with the machine's load.

    python benchmarks/instructions.py [--batch 1] [--protocol asgicy|ceiling]

Runs ``inprocess.py`` under callgrind twice, with N and 3N requests, and divides the difference in
instructions by 2N, so start-up and warm-up cancel out. The figure includes the harness's own loop
callback per read (``--protocol ceiling`` measures that plus a canned answer); compare two versions of
asgicy with it, not asgicy with other servers. Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def total_instructions(requests: int, batch: int, protocol: str, out: Path) -> int:
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                    str(HERE / "inprocess.py"), "--batches", str(batch), "--requests", str(requests),
                    "--protocol", protocol], check=True, capture_output=True)
    summary = subprocess.run(["callgrind_annotate", "--auto=no", str(out)], check=True, capture_output=True,
                             text=True).stdout
    match = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", summary)
    if match is None:
        raise SystemExit(f"no total in callgrind's summary:\n{summary[:2000]}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1, help="requests per read")
    parser.add_argument("--requests", type=int, default=5000, help="N: the runs serve N and 3N requests")
    parser.add_argument("--protocol", choices=("asgicy", "ceiling"), default="asgicy")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        counts = [total_instructions(n, args.batch, args.protocol, Path(tmp) / f"callgrind.{n}")
                  for n in (args.requests, 3 * args.requests)]
    per_request = (counts[1] - counts[0]) / (2 * args.requests)
    print(f"{args.protocol}, batch {args.batch}: {per_request:,.0f} instructions per request")


if __name__ == "__main__":
    main()
