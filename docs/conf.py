"""Sphinx configuration for the skseg documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(needs the ``docs`` extra: ``pip install -e ".[docs]"``); offline, with
``SKSEG_DOCS_OFFLINE=1`` (see below).
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import skseg  # noqa: E402

project = "skseg"
author = "skseg developers"
copyright = "skseg developers"
release = skseg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# autodoc / autosummary / numpydoc
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False  # the class template lists members
numpydoc_class_members_toctree = False

# Examples gallery: examples/plot_*.py are run and rendered into
# auto_examples/; every API page shows the examples that use it (minigallery
# in _templates/autosummary/*.rst, fed by the backreferences).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skseg",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "reference_url": {"skseg": None},
    "download_all_examples": False,
    "remove_config_comments": True,
}

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "skimage": ("https://scikit-image.org/docs/stable/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
# Offline builds (CI, README's command): the inventories above cannot be
# fetched, which Sphinx reports as a warning that -W would turn into an
# error. SKSEG_DOCS_OFFLINE=1 leaves them out; references to those projects
# are then rendered as plain code instead of links.
if os.environ.get("SKSEG_DOCS_OFFLINE", "") not in ("", "0"):
    intersphinx_mapping = {}

html_theme = "alabaster"
html_title = f"skseg {release}"
