"""Instructions per request, counted by valgrind: a measure of the server's own cost that, unlike a
timing, does not move with the machine's load.

    python benchmarks/instructions.py [--batch 1] [--protocol asgicy|ceiling] [--metrics] [--path /awaiting]
    python benchmarks/instructions.py --parser cython|reference|httptools [--request small|browser|post]
    python benchmarks/instructions.py --hpack cython|reference|hyper [--case first|repeated|response]

Runs ``inprocess.py`` under callgrind twice, with N and 3N requests, and divides the difference in
instructions by 2N, so start-up and warm-up cancel out. The figure includes the harness's own loop
callback per read (``--protocol ceiling`` measures that plus a canned answer); compare two versions of
asgicy with it, not asgicy with other servers. With ``--parser``, what runs is one parser fed one of
``parser_micro.py``'s requests N and 3N times (httptools: run this with an interpreter that has it, such
as ``benchmarks/.venv/bin/python``). With ``--hpack``, one HPACK codec (asgicy's Cython or reference, or
python-hyper's ``hpack``) on ``h2_micro.py``'s blocks: a browser's request decoded with fresh tables
(``first``: every field a Huffman literal), the same request again on one connection (``repeated``: the
fields indexed), or a response encoded on one connection (``response``). Needs valgrind (Debian:
``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def feed_parser(parser: str, request: str, times: int) -> None:
    """What runs under callgrind for --parser: one parser fed the same request ``times`` times."""
    sys.path.insert(0, str(HERE))
    import parser_micro

    from asgicy.http import _parser, reference
    makers = {"cython": lambda: parser_micro.asgicy_parser(_parser),
              "reference": lambda: parser_micro.asgicy_parser(reference),
              "httptools": parser_micro.httptools_parser}
    feed = makers[parser]()
    data = parser_micro.REQUESTS[request]
    for _ in range(times):
        feed(data)


def run_hpack(codec: str, case: str, times: int) -> None:
    """What runs under callgrind for --hpack: one codec on one of h2_micro.py's blocks ``times`` times."""
    sys.path.insert(0, str(HERE))
    import h2_micro
    import hpack

    from asgicy.h2 import _hpack, hpack as reference
    module = {"cython": _hpack, "reference": reference, "hyper": hpack}[codec]
    blocks = h2_micro.browser_blocks(2)
    if case == "first":
        for _ in range(times):
            module.Decoder().decode(blocks[0])
    elif case == "repeated":
        decoder = module.Decoder()
        decoder.decode(blocks[0])
        for _ in range(times):
            decoder.decode(blocks[1])
    else:
        encoder = module.Encoder()
        if codec == "hyper":
            fields = [(b":status", b"200")] + h2_micro.RESPONSE
            for _ in range(times):
                encoder.encode(fields)
        else:
            for _ in range(times):
                encoder.encode_response(200, h2_micro.RESPONSE)


def total_instructions(command: list, out: Path) -> int:
    # The checkout first on the path, so an interpreter that has not installed asgicy (the compared
    # servers' virtualenv, for httptools) runs this tree's.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *command],
                   check=True, capture_output=True, env=env)
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
    parser.add_argument("--metrics", action="store_true", help="count each response as --metrics-port does")
    parser.add_argument("--path", default="/plaintext", help="the route of apps.py (/awaiting: the app awaits once)")
    parser.add_argument("--parser", choices=("cython", "reference", "httptools"))
    parser.add_argument("--request", choices=("small", "browser", "post"), default="small")
    parser.add_argument("--hpack", choices=("cython", "reference", "hyper"))
    parser.add_argument("--case", choices=("first", "repeated", "response"), default="first")
    parser.add_argument("--feed-times", type=int, help=argparse.SUPPRESS)  # the run under callgrind
    args = parser.parse_args()
    if args.feed_times is not None:
        if args.hpack:
            run_hpack(args.hpack, args.case, args.feed_times)
        else:
            feed_parser(args.parser, args.request, args.feed_times)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.requests, 3 * args.requests):
            if args.hpack:
                command = [__file__, "--hpack", args.hpack, "--case", args.case, "--feed-times", str(n)]
            elif args.parser:
                command = [__file__, "--parser", args.parser, "--request", args.request, "--feed-times", str(n)]
            else:
                command = [str(HERE / "inprocess.py"), "--batches", str(args.batch), "--requests", str(n),
                           "--protocol", args.protocol, "--path", args.path, *(["--metrics"] if args.metrics else [])]
            counts.append(total_instructions(command, Path(tmp) / f"callgrind.{n}"))
    per_request = (counts[1] - counts[0]) / (2 * args.requests)
    if args.hpack:
        print(f"{args.hpack} HPACK, {args.case} block: {per_request:,.0f} instructions per block")
        return
    what = f"{args.parser} parser, {args.request} request" if args.parser else f"{args.protocol}, batch {args.batch}"
    what += ", metrics on" if args.metrics else ""
    what += f", {args.path}" if args.path != "/plaintext" else ""
    unit = "message" if args.path.startswith("/ws") else "request"  # a WebSocket route: after its upgrade
    print(f"{what}: {per_request:,.0f} instructions per {unit}")


if __name__ == "__main__":
    main()
