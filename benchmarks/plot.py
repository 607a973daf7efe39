"""Render benchmark results: one bar chart per workload and the docs' benchmarks page.

    python benchmarks/plot.py [benchmarks/results/latest.json]
    python benchmarks/plot.py benchmarks/results/h2.json --section HTTP/2

Writes docs/_static/benchmarks/<workload>.png and docs/benchmarks.md. Every number on that page is
read from a results file, which records the command, the machine, the versions and the commit. With
``--section NAME`` the file's rows replace only that section of the page (between its two marker
comments, added at the end the first time), so a run of some workloads (HTTP/2's) does not take the
rest of the page, or the notes written under it, away.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABELS = {
    "plaintext": ("Plaintext, keep-alive", "requests/s"),
    "json": ("JSON, keep-alive", "requests/s"),
    "pipelined": ("Plaintext, pipelined (depth 16)", "requests/s"),
    "echo_64k": ("64 KiB POST echo", "requests/s"),
    "stream": ("Chunked streaming response (16 x 4 KiB)", "requests/s"),
    "file_1m": ("1 MiB file (pathsend where offered, else one body event)", "requests/s"),
    "new_connection": ("New connection per request", "requests/s"),
    "latency": ("p99 latency at 2,000 requests/s (lower is better)", "microseconds"),
    "ws_small": ("WebSocket echo, 16-byte messages", "messages/s"),
    "ws_64k": ("WebSocket echo, 64 KiB messages", "messages/s"),
    "idle_http": ("Memory per idle keep-alive connection (lower is better)", "KiB"),
    "idle_ws": ("Memory per idle WebSocket (lower is better)", "KiB"),
    "h2_plaintext": ("HTTP/2 plaintext, 64 connections x 16 streams (h2c)", "requests/s"),
    "h2_one_connection": ("HTTP/2 plaintext, one connection x 100 streams (h2c)", "requests/s"),
    "h2_echo_64k": ("HTTP/2 64 KiB POST echo, 16 connections x 4 streams (h2c)", "requests/s"),
    "h2_tls_plaintext": ("HTTP/2 over TLS (ALPN), 64 connections x 16 streams", "requests/s"),
    "idle_h2": ("Memory per idle HTTP/2 connection (lower is better)", "KiB"),
    "awaiting": ("Plaintext after one await (asyncio.sleep(0))", "requests/s"),
    "starlette": ("Starlette, a plaintext route", "requests/s"),
    "fastapi": ("FastAPI, a pydantic response model", "requests/s"),
    "db": ("Database, single query (PostgreSQL, asyncpg)", "requests/s"),
    "queries": ("Database, 20 queries per request", "requests/s"),
    "fortunes": ("Database, fortunes (a query and an HTML template)", "requests/s"),
    "latency_plaintext": ("p99 latency, plaintext, at half of uvicorn's throughput (lower is better)",
                          "microseconds"),
    "latency_db": ("p99 latency, single query, at half of uvicorn's throughput (lower is better)", "microseconds"),
    "ws_awaiting": ("WebSocket echo, an await per message, 16-byte messages", "messages/s"),
    "ws_broadcast": ("WebSocket broadcast, a room of 100 connections, 16-byte messages", "deliveries/s"),
}
# The targets the real-app workloads were given (issue "speed where real apps live"): asgicy's figure over
# another server's in the same run, at least this much; latency and the ceiling are checked apart.
TARGETS = [("awaiting", "uvicorn", 2.0), ("awaiting", "granian", 1.6), ("fastapi", "uvicorn", 2.0),
           ("starlette", "uvicorn", 2.5), ("db", "uvicorn", 1.3), ("db", "granian", 1.0),
           ("fortunes", "uvicorn", 1.3), ("fortunes", "granian", 1.0)]


def chart(name: str, data: dict, out: Path) -> None:
    """One horizontal bar per server. Sized to stay legible on a phone: the page shows the image about
    350 px wide there, so the text is large for its 730 px (12 pt at 140 dpi), and the title is the page's
    heading, not part of the image."""
    title, unit = LABELS.get(name, (name, data["metric"]))
    servers = list(data["median"])
    values = [data["median"][s] for s in servers]
    fig, ax = plt.subplots(figsize=(5.2, 0.42 * len(servers) + 0.9), dpi=140)
    colors = ["#2a7ab0" if s == "asgicy" else ("#999999" if s == "ceiling" else "#c7c7c7") for s in servers]
    bars = ax.barh(servers[::-1], values[::-1], color=colors[::-1])
    for bar, value in zip(bars, values[::-1]):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.0f}" if value >= 10 else f" {value}",
                va="center", fontsize=12)
    ax.set_xlabel(unit, fontsize=12)
    ax.tick_params(axis="y", labelsize=12)
    ax.tick_params(axis="x", labelsize=10)
    ax.set_xlim(0, max(values) * 1.35 if values else 1)
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def header(report: dict, heading: str) -> list:
    return [heading, "",
            f"Measured {report['date']} at commit `{report['commit']}` with:", "",
            f"    {report['command']}", "",
            f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
            f"{report['machine']['memory_gib']} GiB, Linux {report['machine']['kernel']}. "
            f"Each server ran alone, pinned to core {report['method']['server_core']}; the load generator "
            f"(wrk, h2load, or benchmarks/loadgen.c) was pinned to core {report['method']['load_core']}. "
            f"{report['method']['rounds']} rounds of {report['method']['duration_s']} s per measurement, "
            "the servers' order alternating round by round; each figure is the median over the rounds, "
            "and each ratio is to asgicy in the same run."
            + (" While a latency workload ran, a busy loop of the lowest scheduling class (SCHED_IDLE) kept "
               "the server's core from going idle (see run.py's KEEP_CORE_AWAKE)."
               if report["method"].get("server_core_kept_awake_when_paced") else ""), "",
            "Event loops: asgicy, uvicorn and hypercorn ran on uvloop, which `pip install asgicy` does not "
            "bring: a plain install runs on asyncio's loop, and `pip install 'asgicy[standard]'` adds uvloop. "
            "`asgicy --version` names the loop a server will use. Compare figures on the same loop.", "",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".", ""]


def is_http2(workload: str) -> bool:
    return workload.startswith("h2_") or workload == "idle_h2"


def rows(report: dict, images: Path, level: str, prefix: str = "") -> list:
    """A heading, a chart and a table per workload; a section's charts are named ``prefix`` + workload, so
    they do not replace the page's own charts of the same workloads."""
    lines = []
    for name, data in report["summary"].items():
        if not data["median"]:
            continue
        image = f"{prefix}{name}.png"
        chart(name, data, images / image)
        title, unit = LABELS.get(name, (name, data["metric"]))
        if prefix == "http2-" and not is_http2(name):
            title += " (HTTP/1.1, in the same run)"
        lines += [f"{level} {title}", "", f"![{title}](_static/benchmarks/{image})", "",
                  f"| server | {unit} | ratio to asgicy |", "| --- | --- | --- |"]
        runs = report.get("raw", {})
        # The server's CPU per request (message, delivery) and the kernel's part of it, where measured.
        per = next((key[len("cpu_us_per_"):] for server in data["median"] for r in runs.get(server, {}).get(name, [])
                    for key in r if key.startswith("cpu_us_per_")), "request")
        cpu, kernel = ({server: median([r[key] for r in runs.get(server, {}).get(name, []) if key in r])
                        for server in data["median"]} for key in (f"cpu_us_per_{per}", f"system_us_per_{per}"))
        tail = {server: [median([r[key] for r in runs.get(server, {}).get(name, []) if key in r])
                         for key in ("p50_us", "p999_us")] for server in data["median"]}
        if any(v[1] is not None for v in tail.values()):
            # Latency: the median of each percentile over the rounds, and the rate it was measured at.
            rate = median([r["rate"] for server in data["median"] for r in runs[server][name] if "rate" in r])
            lines[-2:] = [f"At {rate:,.0f} requests/s, open loop (benchmarks/loadgen.c).", "",
                          "| server | p50 µs | p99 µs | p99.9 µs |", "| --- | --- | --- | --- |"]
            for server, value in data["median"].items():
                p50, p999 = tail[server]
                lines.append(f"| {server} | {p50:,.0f} | {value:,.0f} | {p999:,.0f} |")
        elif any(v is not None for v in cpu.values()):
            # The server's own CPU per request: what a request costs it where something else (the database,
            # the load generator's core) holds the throughput down.
            lines[-2:] = [f"| server | {unit} | ratio to asgicy | server CPU µs per {per} | of which kernel |",
                          "| --- | --- | --- | --- | --- |"]
            for server, value in data["median"].items():
                ratio = data["ratio_to_asgicy"].get(server)
                shown = f"{value:,.0f}" if value >= 100 else f"{value}"
                spent = f"{cpu[server]:,.1f}" if cpu[server] is not None else ""
                system = f"{kernel[server]:,.1f}" if kernel[server] is not None else ""
                lines.append(f"| {server} | {shown} | {ratio if ratio is not None else ''} | {spent} | {system} |")
        else:
            for server, value in data["median"].items():
                ratio = data["ratio_to_asgicy"].get(server)
                shown = f"{value:,.0f}" if value >= 100 else f"{value}"
                lines.append(f"| {server} | {shown} | {ratio if ratio is not None else ''} |")
        lines.append("")
    return lines + targets(report, level)


def median(values: list):
    return statistics.median(values) if values else None


def targets(report: dict, level: str) -> list:
    """The targets table, for a report that has the workloads they are about: each ratio from its rows."""
    summary = report["summary"]
    lines = []
    for workload, other, wanted in TARGETS:
        medians = summary.get(workload, {}).get("median", {})
        if "asgicy" in medians and other in medians:
            ratio = medians["asgicy"] / medians[other]
            lines.append(f"| {LABELS[workload][0]} | asgicy / {other} >= {wanted} | {ratio:.2f} | "
                         f"{'met' if ratio >= wanted else 'not met'} |")
    for workload in ("latency_plaintext", "latency_db"):
        medians = summary.get(workload, {}).get("median", {})
        if "asgicy" in medians and "uvicorn" in medians:
            ours, theirs = medians["asgicy"], medians["uvicorn"]
            lines.append(f"| {LABELS[workload][0]} | asgicy's p99 <= uvicorn's | {ours:,.0f} vs {theirs:,.0f} µs | "
                         f"{'met' if ours <= theirs else 'not met'} |")
    medians = summary.get("ws_small", {}).get("median", {})
    if "asgicy" in medians and "ceiling" in medians:
        ratio = medians["asgicy"] / medians["ceiling"]
        lines.append(f"| {LABELS['ws_small'][0]} | asgicy / bare-loop ceiling >= 0.5 | {ratio:.2f} | "
                     f"{'met' if ratio >= 0.5 else 'not met'} |")
    if not lines:
        return []
    return [f"{level} Targets", "", "| workload | target | measured | |", "| --- | --- | --- | --- |", *lines, ""]


def main() -> None:
    arguments = sys.argv[1:]
    section = None
    if "--section" in arguments:
        at = arguments.index("--section")
        section = arguments[at + 1]
        del arguments[at:at + 2]
    source = Path(arguments[0]) if arguments else ROOT / "benchmarks" / "results" / "latest.json"
    report = json.loads(source.read_text())
    images = ROOT / "docs" / "_static" / "benchmarks"
    images.mkdir(parents=True, exist_ok=True)
    page = ROOT / "docs" / "benchmarks.md"
    if section is None:
        page.write_text("\n".join(header(report, "# Benchmarks") + rows(report, images, "##")))
    else:
        start, end = f"<!-- section {section}: written by benchmarks/plot.py -->", f"<!-- end of section {section} -->"
        # The charts' file names: "HTTP/2" -> "http2-", "Real apps, every server" -> "real-apps-every-server-".
        prefix = section.lower().replace("/", "").replace(",", "").replace(" ", "-") + "-"
        body = "\n".join([start, ""] + header(report, f"## {section}") + rows(report, images, "###", prefix) + [end])
        text = page.read_text()
        if start in text and end in text:
            text = text[:text.index(start)] + body + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + body + "\n"
        page.write_text(text)
    print(f"wrote docs/benchmarks.md and {len(report['summary'])} charts")


if __name__ == "__main__":
    main()
