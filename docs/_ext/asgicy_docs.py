"""Pages the docs generate from the code at build time, so they cannot drift from it.

- ``reference/options.md``: every option, from the single declaration in :mod:`asgicy.config` (the same
  one the CLI and ``asgicy.run`` use), with its flag, keyword, default and help.
- ``_generated/limits.md``: the limits and timeouts table the security page includes.
- ``_static/generated/state-machine.svg``: the request state machine, drawn from
  ``asgicy.http.grammar.TRANSITIONS`` (which tests/sansio/test_state_machine.py checks against both
  parsers).
- ``_static/generated/connection-states.svg`` and ``_generated/connection-states.md``: an HTTP/1.1
  connection's life, drawn and tabled from ``asgicy.server.states.TRANSITIONS`` (which
  tests/integration/test_connection_states.py checks against the running protocol).

- ``_static/generated/stream-states.svg`` and ``_generated/stream-states.md``: an HTTP/2 stream's states, from
  ``asgicy.h2.grammar.STREAM_TRANSITIONS`` and ``STREAM_ERRORS`` (the table the reference core moves every
  stream by).

- ``_generated/log-fields.md`` and ``_generated/metrics.md``: the fields of a JSON log line and the Prometheus
  metrics, from ``asgicy.server.logs.ACCESS_FIELDS`` and ``asgicy.server.metrics.METRICS``.

- ``_generated/notebooks/NN_name.ipynb``: each tutorial chapter as a notebook a reader can download; every
  chapter's page links to its own (added under the title as the page is read).

All are written into the source tree before Sphinx reads it and are ignored by git.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

GROUP_ORDER = ("app", "socket", "server", "processes", "proxy", "tls", "http", "http2", "limits", "timeouts",
               "websocket", "logging", "metrics", "config")


def _default(f: dataclasses.Field) -> str:
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if value == []:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    return f"`{value}`"


def options_page() -> str:
    from asgicy.cli import GROUP_TITLES
    from asgicy.config import Config, flag_of

    fields = list(Config.options())
    groups = sorted({f.metadata["group"] for f in fields},
                    key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER))
    lines = [
        "# Options",
        "",
        "Every option asgicy has, generated from its one declaration (`asgicy.config.Config`). The same",
        "names work everywhere: as a command-line flag (booleans also have a `--no-` form), as a keyword of",
        "`asgicy.run(app, **options)` or `asgicy.Config(...)`, as an `ASGICY_<NAME>` environment variable,",
        "and as a key of a TOML config file (see [configuration](../howto/configuration.md)). Names follow",
        "uvicorn's where the meaning is the same.",
        "",
    ]
    for group in groups:
        lines += [f"## {GROUP_TITLES.get(group, group).capitalize()}", "",
                  "| flag | keyword / environment | default | what it does |", "| --- | --- | --- | --- |"]
        for f in fields:
            if f.metadata["group"] != group:
                continue
            flag = flag_of(f)
            if isinstance(f.default, bool):
                flag = f"{flag} / --no-{flag[2:]}"
            choices = f.metadata.get("choices")
            help_text = f.metadata["help"].replace("|", "\\|")
            if choices:
                help_text += " One of " + ", ".join(f"`{c}`" for c in choices) + "."
            lines.append(f"| `{flag}` | `{f.name}` `ASGICY_{f.name.upper()}` | {_default(f)} | {help_text} |")
        lines.append("")
    return "\n".join(lines)


# Where each state sits in the drawing (x, y), and how far some edges bend; the edges come from the code.
# Edges that leave several states for the same target with the same label (a message ending in
# HEADERS, BODY or TRAILERS) are drawn through one junction, so the diagram stays readable.
LAYOUT = {"REQUEST_LINE": (0, 2), "HEADERS": (2.9, 2), "BODY": (5.2, 3.4), "CHUNK_SIZE": (4.8, 0.6),
          "CHUNK_DATA": (3.6, -1.0), "CHUNK_DATA_END": (6.0, -1.0), "TRAILERS": (7.8, 0.3),
          "end of message": (9.3, 2), "CLOSED": (11.4, 3.3), "PAUSED": (11.4, 0.7)}
BENDS = {("end of message", "REQUEST_LINE"): 0.42, ("PAUSED", "REQUEST_LINE"): -0.55,
         ("CHUNK_DATA_END", "CHUNK_SIZE"): 0.3, ("CHUNK_DATA", "CHUNK_DATA_END"): 0.3,
         ("CHUNK_SIZE", "CHUNK_DATA"): 0.3}


def draw_state_machine(out: Path) -> None:
    from collections import defaultdict

    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # real text in the SVG: selectable, searchable, smaller
    matplotlib.rcParams["svg.hashsalt"] = "asgicy"  # the same drawing makes the same file
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from asgicy.http.grammar import STATE_NAMES, TRANSITIONS

    sources = defaultdict(set)
    for source, target, label in TRANSITIONS:
        sources[(STATE_NAMES[target], label)].add(STATE_NAMES[source])
    edges = set()
    for (target, label), froms in sources.items():
        if len(froms) > 1:
            edges |= {(name, "end of message", "") for name in froms}
            edges.add(("end of message", target, label))
        else:
            edges.add((next(iter(froms)), target, label))

    fig, ax = plt.subplots(figsize=(11, 6))
    ax.set_xlim(-1, 12.4)
    ax.set_ylim(-3.4, 5.2)
    ax.axis("off")
    for name, (x, y) in LAYOUT.items():
        junction = name == "end of message"
        ax.text(x, y, name, ha="center", va="center", fontsize=8 if junction else 9,
                family="sans-serif" if junction else "monospace", style="italic" if junction else "normal",
                bbox={"boxstyle": "round,pad=0.45", "facecolor": "white" if junction else "#eef3fb",
                      "edgecolor": "#999999" if junction else "#34598f", "linestyle": "--" if junction else "-"},
                zorder=3)
    for source, target, label in sorted(edges):
        a, b = LAYOUT[source], LAYOUT[target]
        bend = BENDS.get((source, target), 0.06)
        ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                     mutation_scale=12, shrinkA=24, shrinkB=24, color="#555555", lw=0.9,
                                     zorder=1))
        if label:  # at the middle of the curve (matplotlib's arc3 bends towards (dy, -dx))
            dx, dy = b[0] - a[0], b[1] - a[1]
            mx, my = (a[0] + b[0]) / 2 + bend * dy / 2, (a[1] + b[1]) / 2 - bend * dx / 2
            ax.text(mx, my, label, fontsize=8, ha="center", va="center", color="#222222", zorder=2,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    ax.text(-0.9, -3.3, "Any state but CLOSED goes to ERROR on a protocol error (answered with its 4xx/5xx status, "
            "then the connection closes).", fontsize=8, color="#7a2020")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


# The options that bound what one client can make the server do, for the security page.
LIMIT_OPTIONS = ("limit_request_line", "limit_request_headers", "limit_request_header_size", "limit_request_body",
                 "limit_concurrency", "timeout_header_read", "timeout_body_read", "timeout_send", "timeout_keep_alive",
                 "timeout_graceful_shutdown", "ws_max_size", "ws_max_queue", "ws_ping_interval", "ws_ping_timeout",
                 "h2_max_concurrent_streams", "h2_initial_window_size", "h2_max_frame_size", "backlog",
                 "forwarded_allow_ips")


def limits_table() -> str:
    from asgicy.config import Config, flag_of

    fields = {f.name: f for f in Config.options()}
    lines = ["| option | default | what it bounds |", "| --- | --- | --- |"]
    for name in LIMIT_OPTIONS:
        f = fields[name]
        lines.append(f"| `{flag_of(f)}` | {_default(f)} | {f.metadata['help'].replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


def _write_if_changed(page: Path, text: str) -> None:
    page.parent.mkdir(parents=True, exist_ok=True)
    if not page.exists() or page.read_text() != text:  # rewriting an unchanged page would rebuild it
        page.write_text(text)


def notebooks(source: Path) -> None:
    """Each tutorial chapter as a Jupyter notebook (``_generated/notebooks/NN_name.ipynb``), for readers to
    download from its page and run: the same cells, converted by jupytext from the MyST source."""
    import jupytext

    out = source / "_generated" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for chapter in sorted((source / "tutorial").glob("[0-9][0-9]_*.md")):
        notebook = jupytext.read(chapter, fmt="md:myst")
        notebook.metadata.pop("file_format", None)
        notebook.metadata.pop("jupytext", None)
        _write_if_changed(out / f"{chapter.stem}.ipynb", jupytext.writes(notebook, fmt="ipynb"))


# Put under each chapter's title: where to get it as a notebook, and the command that runs it.
RUN_IT_YOURSELF = """
:::{{admonition}} Run this chapter yourself
:class: tip
{{download}}`Download it as a notebook </_generated/notebooks/{name}.ipynb>`, then, in an environment
with `pip install -e '.[docs]'` done in an asgicy checkout, open it with `jupyter lab {name}.ipynb`, or run
it whole with `jupyter execute {name}.ipynb`.
:::
"""


def add_run_it_yourself(app, docname: str, source: list) -> None:
    name = docname.rpartition("/")[2]
    if not (docname.startswith("tutorial/") and name[:2].isdigit()):
        return
    text = source[0]
    title_end = text.index("\n", text.index("\n# ")+ 1)
    source[0] = text[:title_end + 1] + RUN_IT_YOURSELF.format(name=name) + text[title_end + 1:]


# The connection's states in the drawing; the edges come from asgicy.server.states.TRANSITIONS. Several
# events between the same two states share one arrow; a state's moves to itself are written under it, and
# the ways to CLOSED that most states share (a timeout, the peer closing) are listed under the drawing.
CONNECTION_LAYOUT = {"UPGRADED": (0, 6.2), "IDLE": (0, 2.5), "READING_HEAD": (2.4, 5.2),
                     "READING_BODY": (2.4, -0.2), "DISCARDING": (0.4, -3.4), "LINGERING": (5.6, -3.4),
                     "RESPONDING": (7.8, 2.5), "ANSWERING_ERROR": (11.6, -1.2), "CLOSED": (11.6, 2.5)}
CONNECTION_BENDS = {("IDLE", "RESPONDING"): -0.1, ("RESPONDING", "IDLE"): -0.1, ("DISCARDING", "IDLE"): -0.15,
                    ("READING_HEAD", "READING_BODY"): 0.0, ("READING_BODY", "ANSWERING_ERROR"): 0.0,
                    ("ANSWERING_ERROR", "CLOSED"): 0.0, ("RESPONDING", "CLOSED"): 0.0}
SHARED_ENDINGS = ("timeout", "peer closed", "protocol error")


def draw_connection_states(out: Path) -> None:
    from collections import defaultdict

    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "asgicy"
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from asgicy.server.states import CLOSED, TRANSITIONS

    labels = defaultdict(list)
    stays = defaultdict(list)
    shared = defaultdict(list)
    for source, event, target, _ in TRANSITIONS:
        if source == target:
            stays[source].append(event)
        elif target == CLOSED and event in SHARED_ENDINGS:
            shared[event].append(source)
        else:
            labels[(source, target)].append(event)
    fig, ax = plt.subplots(figsize=(11, 7))
    ax.set_xlim(-1.4, 13)
    ax.set_ylim(-5.4, 7)
    ax.axis("off")
    for name, (x, y) in CONNECTION_LAYOUT.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9, family="monospace", zorder=3,
                bbox={"boxstyle": "round,pad=0.45", "facecolor": "#eef3fb", "edgecolor": "#34598f"})
        if stays[name]:
            ax.text(x + 1.0, y - 0.75, "stays on: " + ", ".join(stays[name]), ha="center", va="center",
                    fontsize=7.5, style="italic", color="#444444", zorder=3)
    for (source, target), events in sorted(labels.items()):
        a, b = CONNECTION_LAYOUT[source], CONNECTION_LAYOUT[target]
        bend = CONNECTION_BENDS.get((source, target), 0.08)
        ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                     mutation_scale=12, shrinkA=28, shrinkB=28, color="#555555", lw=0.9,
                                     zorder=1))
        dx, dy = b[0] - a[0], b[1] - a[1]
        mx, my = (a[0] + b[0]) / 2 + bend * dy / 2, (a[1] + b[1]) / 2 - bend * dx / 2
        ax.text(mx, my, "\n".join(events), fontsize=8, ha="center", va="center", color="#222222", zorder=2,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    note = "\n".join(f"{event} goes to CLOSED from " + ", ".join(sources) for event, sources in shared.items())
    ax.text(-1.3, -4.9, note, fontsize=8, color="#7a2020", va="center")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


def connection_states_table() -> str:
    from asgicy.server.states import TRANSITIONS

    lines = ["| In state | on | goes to | why |", "|---|---|---|---|"]
    for source, event, target, why in TRANSITIONS:
        lines.append(f"| `{source}` | {event} | `{target}` | {why} |")
    return "\n".join(lines) + "\n"


STREAM_LAYOUT = {"IDLE": (0, 2), "OPEN": (4, 2), "HALF_CLOSED_REMOTE": (8.5, 4.2), "HALF_CLOSED_LOCAL": (8.5, -0.2),
                 "CLOSED": (15, 2)}
STREAM_BENDS = {("OPEN", "CLOSED"): 0.0, ("IDLE", "HALF_CLOSED_REMOTE"): -0.25, ("IDLE", "OPEN"): 0.0}
STREAM_NOTE_SHIFT = {"OPEN": -1.6}  # where a state's "stays on" note would cross an arrow
STREAM_SHRINK = {("IDLE", "HALF_CLOSED_REMOTE"): 62}  # an arrow that ends at the side of a wide box


def _stream_event(name: str) -> str:
    """RECV_DATA_END -> 'recv DATA+END_STREAM'."""
    direction, _, rest = name.partition("_")
    frame = rest.replace("_END", "") if rest.endswith("_END") else rest
    frame = "RST_STREAM" if frame == "RST" else frame
    return f"{direction.lower()} {frame}{'+END_STREAM' if rest.endswith('_END') else ''}"


def draw_stream_states(out: Path) -> None:
    """An HTTP/2 stream's states as the server sees them, from asgicy.h2.grammar.STREAM_TRANSITIONS."""
    from collections import defaultdict

    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "asgicy"
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from asgicy.h2.grammar import STREAM_EVENT_NAMES, STREAM_STATE_NAMES, STREAM_TRANSITIONS

    labels = defaultdict(list)
    stays = defaultdict(list)
    for (source, event), target in STREAM_TRANSITIONS.items():
        name = _stream_event(STREAM_EVENT_NAMES[event])
        if source == target:
            stays[STREAM_STATE_NAMES[source]].append(name)
        else:
            labels[(STREAM_STATE_NAMES[source], STREAM_STATE_NAMES[target])].append(name)
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.set_xlim(-1.5, 16.5)
    ax.set_ylim(-1.8, 5.6)
    ax.axis("off")
    for name, (x, y) in STREAM_LAYOUT.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9, family="monospace", zorder=3,
                bbox={"boxstyle": "round,pad=0.45", "facecolor": "#eef3fb", "edgecolor": "#34598f"})
        if stays[name]:
            ax.text(x + STREAM_NOTE_SHIFT.get(name, 0), y - 0.75 if y < 4 else y + 0.75,
                    "stays on: " + ", ".join(stays[name]), ha="center",
                    va="center", fontsize=7.5, style="italic", color="#444444", zorder=3)
    for (source, target), events in sorted(labels.items()):
        a, b = STREAM_LAYOUT[source], STREAM_LAYOUT[target]
        bend = STREAM_BENDS.get((source, target), 0.08)
        ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                     mutation_scale=12, shrinkA=30, shrinkB=STREAM_SHRINK.get((source, target), 32),
                                     color="#555555", lw=0.9,
                                     zorder=1))
        dx, dy = b[0] - a[0], b[1] - a[1]
        mx, my = (a[0] + b[0]) / 2 + bend * dy / 2, (a[1] + b[1]) / 2 - bend * dx / 2
        ax.text(mx, my, "\n".join(events), fontsize=8, ha="center", va="center", color="#222222", zorder=2,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    ax.text(-1.4, -1.5, "A frame received in a state with no arrow for it is the error the table below names.",
            fontsize=8, color="#7a2020")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


def stream_states_table() -> str:
    from asgicy.h2.grammar import ERROR_NAMES, STREAM_ERRORS, STREAM_EVENT_NAMES, STREAM_STATE_NAMES, STREAM_TRANSITIONS

    lines = ["| In state | on | goes to |", "|---|---|---|"]
    for (source, event), target in STREAM_TRANSITIONS.items():
        lines.append(f"| `{STREAM_STATE_NAMES[source]}` | {_stream_event(STREAM_EVENT_NAMES[event])} | "
                     f"`{STREAM_STATE_NAMES[target]}` |")
    for (source, event), (code, whole) in STREAM_ERRORS.items():
        lines.append(f"| `{STREAM_STATE_NAMES[source]}` | {_stream_event(STREAM_EVENT_NAMES[event])} | "
                     f"{'connection' if whole else 'stream'} error `{ERROR_NAMES[code]}` |")
    return "\n".join(lines) + "\n"


def log_fields_table() -> str:
    from asgicy.server.logs import ACCESS_FIELDS, WEBSOCKET_FIELDS

    lines = ["| field | on | what it holds |", "|---|---|---|",
             "| `time` | every line | when, in UTC, ISO 8601 with milliseconds (`2026-12-03T05:16:18.640Z`) |",
             "| `level` | every line | `debug`, `info`, `warning`, `error` or `critical` |",
             "| `logger` | every line | `asgicy.error` (the server's own lines) or `asgicy.access` |",
             "| `message` | every line | the line as the text format writes it |",
             "| `exception` | error lines | the traceback, when the line is about one |"]
    for name, meaning in ACCESS_FIELDS.items():
        where = "every line" if name == "pid" else "access lines"
        meaning = meaning.replace("|", "\\|")
        lines.append(f"| `{name}` | {where} | {meaning} |")
    for name, meaning in WEBSOCKET_FIELDS.items():
        lines.append(f"| `{name}` | WebSocket lines | {meaning} |")
    return "\n".join(lines) + "\n"


def metrics_table() -> str:
    from asgicy.server.metrics import METRICS

    suffix = {"counter": "_total", "gauge": "", "histogram": "_bucket, _sum, _count"}
    lines = ["| metric | type | labels | what it counts |", "|---|---|---|---|"]
    for name, kind, help, labels in METRICS:
        shown = f"`{name}{suffix[kind]}`" if kind != "histogram" else f"`{name}` (`_bucket`, `_sum`, `_count`)"
        lines.append(f"| {shown} | {kind} | {', '.join(f'`{label}`' for label in labels) or '-'} | {help} |")
    return "\n".join(lines) + "\n"


def generate(app) -> None:
    source = Path(app.srcdir)
    _write_if_changed(source / "reference" / "options.md", options_page())
    _write_if_changed(source / "_generated" / "limits.md", limits_table())
    draw_state_machine(source / "_static" / "generated" / "state-machine.svg")
    draw_connection_states(source / "_static" / "generated" / "connection-states.svg")
    _write_if_changed(source / "_generated" / "connection-states.md", connection_states_table())
    draw_stream_states(source / "_static" / "generated" / "stream-states.svg")
    _write_if_changed(source / "_generated" / "stream-states.md", stream_states_table())
    _write_if_changed(source / "_generated" / "log-fields.md", log_fields_table())
    _write_if_changed(source / "_generated" / "metrics.md", metrics_table())
    notebooks(source)


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("source-read", add_run_it_yourself)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
