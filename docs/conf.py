"""Sphinx configuration for the asgicy site. Build: ``python -m sphinx -W -n -b html docs docs/_build/html``.

The tutorial notebooks (MyST Markdown notebooks in ``tutorial/``, linked into the site as
``docs/tutorial``) are executed on every build against a real asgicy server; a failing cell fails the
build. Nothing here needs the network.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from asgicy import __version__  # noqa: E402

project = "asgicy"
author = "the asgicy developers"
copyright = "2026, the asgicy developers"
release = version = __version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.viewcode", "asgicy_docs"]
exclude_patterns = ["_build", "_generated", "tutorial/README.md", "**/.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".md": "myst-nb"}

nitpicky = True
nitpick_ignore_regex = [
    # Standard-library and third-party types named in signatures: no intersphinx (the build is offline).
    (r"py:class", r"(asyncio|dataclasses|typing|collections|contextlib|logging|ssl|os|socket)\..*"),
    (r"py:class", r"(Any|Callable|Awaitable|Iterable|Mapping|Path|Field|Server|Config|Running|EventRecorder)"),
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

nb_execution_mode = "force"
nb_execution_in_temp = True  # a chapter may write files (chapter 17 writes its app): never into the tree
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 120
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "furo"
html_title = f"asgicy {version}"
html_static_path = ["_static"]
html_css_files = ["asgicy.css"]
html_theme_options = {"navigation_with_keys": True}
