"""Sphinx configuration of the documentation site (built by `python3 dev.py docs`).

The sources are generated from the notebooks in `nbs/` by the `nbdocs` extension beside this file, so Sphinx runs as
`sphinx-build -c docs _proc/sphinx _site`. Nothing is executed (myst-nb shows the outputs saved in the notebooks)
and nothing is fetched from the network: MathJax and plotly.js are served from the site's own `_static`.
"""
import configparser, os, sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(DOCS), str(ROOT)]
_ini = configparser.ConfigParser()
_ini.read(ROOT/'settings.ini')
META = _ini['DEFAULT']

project = META['lib_name']
author = META['author']
copyright = META['copyright']
release = version = META['version']

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.mathjax', 'nbdocs']
root_doc = 'index'
exclude_patterns = ['_build', '**.ipynb_checkpoints']
nbdocs_root = str(ROOT)
nbdocs_nbs = META.get('nbs_path', 'nbs')
nbdocs_lib = META['lib_name']
nbdocs_mathjax = os.environ.get('NEUROVIT_MATHJAX', str(ROOT/'.venv'/'share'/'mathjax'/'tex-svg-full.js'))

# notebooks: shown with their saved outputs, never executed
nb_execution_mode = 'off'
nb_merge_streams = True
nb_ipywidgets_js = {}  # no widget manager from a CDN: saved widgets show their text form
myst_enable_extensions = ['dollarmath', 'amsmath', 'attrs_block', 'attrs_inline', 'colon_fence']
myst_heading_anchors = 3
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']
linkcheck_anchors = False  # `python3 dev.py docs --linkcheck` (needs the network) checks the links leaving the site

# API: docstrings plus docments (added by nbdocs), with type hints in the signature
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_default_options = {'undoc-members': False}
add_module_names = False
default_role = 'py:obj'

# offline maths: MathJax 3 (SVG output: no web fonts to fetch), copied into _static by nbdocs
mathjax_path = 'mathjax.js'
mathjax3_config = {'tex': {'inlineMath': [['\\(', '\\)']], 'displayMath': [['\\[', '\\]']]}}

html_theme = 'pydata_sphinx_theme'
html_title = META['lib_name']
html_static_path = ['_static']
html_css_files = ['nbdocs.css']
html_show_sourcelink = False
html_copy_source = False
html_context = {'default_mode': 'auto'}
html_theme_options = {
    'navbar_align': 'left',
    'header_links_before_dropdown': 9,
    'show_toc_level': 2,
    'navigation_with_keys': False,
    'icon_links': [{'name': 'GitHub', 'url': META['git_url'], 'icon': 'fa-brands fa-github'}],
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version', 'theme-version'],
}
