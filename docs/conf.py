"""Sphinx configuration for cxrecovery's documentation."""

from __future__ import annotations

import sys
from pathlib import Path

from cxrecovery import __version__

# The project's own Sphinx extension: reference pages generated from the code.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "cxrecovery"
author = "The cxrecovery team"
copyright = "2026, the cxrecovery team"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "cxrecovery_reference",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# No network here or in CI: cross-references to the standard library stay plain text.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "furo"
html_title = f"cxrecovery {release}"
nitpicky = False
