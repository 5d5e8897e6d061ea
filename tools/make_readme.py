"""Write README.md from nbs/index.ipynb: hidden cells and directives dropped, code and outputs kept (no Quarto needed)."""
import re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent

def _directives(src):
    return [l[2:].strip() for l in src.splitlines() if l.startswith('#|')]

def readme_text(nb_path=ROOT/'nbs'/'index.ipynb'):
    nb = nbformat.read(nb_path, as_version=4)
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw': continue
        if c.cell_type == 'code':
            ds = _directives(c.source)
            if 'hide' in ds or any(d.startswith('default_exp') for d in ds): continue
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|')).strip()
            if not c.source: continue
        cells.append(c)
    nb.cells = cells
    nb.metadata.setdefault('language_info', {'name': 'python'})  # fenced code blocks get their language
    md, _ = MarkdownExporter().from_notebook_node(nb)
    # nbdev subtitle syntax `> text` under the title stays a blockquote; collapse blank-line runs
    md = re.sub(r'\n{3,}', '\n\n', md).strip() + '\n'
    return '<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n' + md

if __name__ == '__main__':
    out = ROOT/'README.md'
    text = readme_text()
    if not out.exists() or out.read_text() != text:
        out.write_text(text); print('README.md written')
    else: print('README.md up to date')
