"""Pages the docs generate from the code at build time, so they cannot drift from it.

- ``reference/options.md``: every option, from the single declaration in :mod:`asgicy.config` (the same
  one the CLI and ``asgicy.run`` use), with its flag, keyword, default and help.
- ``_static/generated/state-machine.svg``: the request state machine, drawn from
  ``asgicy.http.reference.TRANSITIONS`` (which tests/sansio/test_state_machine.py checks against both
  parsers).

Both are written into the source tree before Sphinx reads it and are ignored by git.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

GROUP_ORDER = ("app", "socket", "server", "http", "limits", "timeouts", "websocket", "logging")


def _default(f: dataclasses.Field) -> str:
    value = f.default
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
        "names work three ways: as a command-line flag, as a keyword of `asgicy.run(app, **options)` or",
        "`asgicy.Config(...)`, and (for booleans) with a `--no-` form on the command line. Names follow",
        "uvicorn's where the meaning is the same.",
        "",
    ]
    for group in groups:
        lines += [f"## {GROUP_TITLES.get(group, group).capitalize()}", "",
                  "| flag | keyword | default | what it does |", "| --- | --- | --- | --- |"]
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
            lines.append(f"| `{flag}` | `{f.name}` | {_default(f)} | {help_text} |")
        lines.append("")
    return "\n".join(lines)


# Where each state sits in the drawing (x, y); the edges come from the code.
LAYOUT = {"REQUEST_LINE": (0, 2), "HEADERS": (2.6, 2), "BODY": (5.4, 3.3), "CHUNK_SIZE": (5.4, 0.7),
          "CHUNK_DATA": (8.2, 1.5), "CHUNK_DATA_END": (8.2, -0.2), "TRAILERS": (5.4, -1.2),
          "PAUSED": (2.6, 4.6), "CLOSED": (8.2, 4.6)}


def draw_state_machine(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # real text in the SVG: selectable, searchable, smaller
    matplotlib.rcParams["svg.hashsalt"] = "asgicy"  # the same drawing makes the same file
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from asgicy.http.reference import STATE_NAMES, TRANSITIONS

    fig, ax = plt.subplots(figsize=(10, 6.2))
    ax.set_xlim(-1.2, 9.6)
    ax.set_ylim(-2, 5.4)
    ax.axis("off")
    for name, (x, y) in LAYOUT.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9, family="monospace",
                bbox={"boxstyle": "round,pad=0.45", "facecolor": "#eef3fb", "edgecolor": "#34598f"}, zorder=3)
    for source, target, label in TRANSITIONS:
        a, b = LAYOUT[STATE_NAMES[source]], LAYOUT[STATE_NAMES[target]]
        bend = 0.25 if (target, source) in {(s, t) for s, t, _ in TRANSITIONS} or b[0] < a[0] else 0.08
        arrow = FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>", mutation_scale=12,
                                shrinkA=26, shrinkB=26, color="#555555", lw=0.9, zorder=1)
        ax.add_patch(arrow)
        # The label sits at the middle of the curve, pushed sideways like the arc.
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        dx, dy = b[0] - a[0], b[1] - a[1]
        ax.text(mx + bend * dy * 0.5, my - bend * dx * 0.5, label, fontsize=7, ha="center", va="center",
                color="#333333", bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                zorder=2)
    ax.text(-1.1, -1.9, "Any state but CLOSED goes to ERROR on a protocol error (answered with its 4xx/5xx, "
            "then the connection closes).", fontsize=8, color="#7a2020")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


def generate(app) -> None:
    source = Path(app.srcdir)
    page = source / "reference" / "options.md"
    text = options_page()
    if not page.exists() or page.read_text() != text:  # rewriting an unchanged page would rebuild it
        page.write_text(text)
    draw_state_machine(source / "_static" / "generated" / "state-machine.svg")


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
