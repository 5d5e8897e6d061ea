"""Sphinx extension: the nbdev notebooks in `nbs/` become myst-nb pages, with API docs from docstrings and docments.

Before Sphinx reads its sources (`builder-inited`), every notebook goes through nbdev's own documentation
processors (hidden cells, export cells and `#| hide_line` dropped, `show_doc` cells added after each export cell),
but nothing is executed: each `show_doc(name)` cell becomes an autodoc directive, and the saved outputs are shown
as they are. Pages keep nbdev's names (`00_core.ipynb` -> `core.html`) and are grouped in sections by their number.
`autodoc-process-docstring` adds each parameter's docment (its trailing comment) to the docstring.
"""
from __future__ import annotations
import importlib, inspect, json, re, shutil
from pathlib import Path
from sphinx.util import logging

logger = logging.getLogger(__name__)

# (slug, title, notebook-number prefixes); tutorials and experiments are matched by folder.
SECTIONS = [('data', 'Core and data', '0'), ('models', 'Models', '1'), ('train', 'Training', '2'),
            ('evaluation', 'Evaluation and generation', '3'), ('interpretation', 'Interpretation', '4'),
            ('scaling', 'Scaling', '5'), ('commands', 'Commands', '9'),
            ('tutorials', 'Tutorials', 'tutorials/'), ('experiments', 'Experiments', 'experiments/')]
_CDN_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>'
                         r'|<script type="module">\s*import\s+"https?://[^"]*"\s*;?\s*</script>', re.I)
_LINK = re.compile(r'(!?\[[^\]]*\]\()([^)\s]+)(\))')
_TICK = re.compile(r'(?<![`\w])`([A-Za-z_][\w.]*)(\(\))?`(?!`)')
_FENCE = re.compile(r'^(```|~~~)')


def page_name(rel: Path) -> str:
    "nbdev's page name of a notebook path relative to `nbs/`: `01_data.io.ipynb` -> `data.io`."
    return str(rel.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix(''))


def find_notebooks(nbs: Path) -> list[Path]:
    "Notebooks under `nbs` in nbdev's order, skipping files and folders that start with `_` or `.`."
    return sorted(p.relative_to(nbs) for p in nbs.rglob('*.ipynb')
                  if not any(part[0] in '_.' for part in p.relative_to(nbs).parts))


def section_of(rel: Path) -> str | None:
    "The slug of the section a notebook belongs to (None for the home page)."
    s = rel.as_posix()
    for slug, _, pre in SECTIONS:
        if (pre.endswith('/') and s.startswith(pre)) or (not pre.endswith('/') and '/' not in s and s.startswith(pre)):
            return slug
    return None


def _symbols(lib: str) -> dict[str, str]:
    "Map each public name in nbdev's index (`name`, `Class.meth`, `mod.name`) to its full dotted name."
    idx = importlib.import_module(f'{lib}._modidx').d['syms']
    out, dup = {}, set()
    for mod, syms in idx.items():
        for full in syms:
            rest = full[len(mod) + 1:]
            if any(p.startswith('_') for p in rest.split('.')): continue
            for key in (rest, f'{mod[len(lib) + 1:]}.{rest}'):
                if key in out and out[key] != full: dup.add(key)
                out[key] = full
    return {k: v for k, v in out.items() if k not in dup}


def _autodoc(full: str, seen: set) -> str:
    "An autodoc directive (in MyST's `eval-rst`) for the object named `full`."
    parts, obj, rest = full.split('.'), None, []
    for i in range(len(parts) - 1, 0, -1):
        try: obj = importlib.import_module('.'.join(parts[:i])); rest = parts[i:]; break
        except ImportError: continue
    for p in rest: obj = getattr(obj, p, None)
    if obj is None or not rest: raise LookupError(f'show_doc({full}): not in the library (run nbdev_export)')
    kind = ('autoclass' if inspect.isclass(obj) else 'automethod' if len(rest) > 1 and callable(obj)
            else 'autofunction' if callable(obj) else 'autodata')
    opts = ['   :members:'] if kind == 'autoclass' else []
    if full in seen or (len(rest) > 1 and '.'.join(parts[:-1]) in seen): opts.append('   :no-index:')
    seen.add(full)
    return '\n'.join(['```{eval-rst}', f'.. {kind}:: {full}', *opts, '```'])


class NotebookPages:
    "Turns the notebooks of `nbs` into myst-nb sources under `out`."
    def __init__(self, root: Path, nbs: Path, out: Path, lib: str):
        self.root, self.nbs, self.out, self.lib = root, nbs, out, lib
        self.rels = find_notebooks(nbs)
        self.pages = {r.as_posix(): page_name(r) for r in self.rels}
        self.syms, self.seen, self.plotly, self.written = _symbols(lib), set(), set(), set()
        self.problems = []  # notebooks whose API docs could not be made, for Sphinx to report

    def _target(self, rel: Path, url: str) -> str:
        "A link target of the notebook `rel`, rewritten for the generated tree (pages renamed, files copied)."
        if re.match(r'^[a-z][\w+.-]*:|^#|^/', url): return url
        path, _, anchor = url.partition('#')
        src = (self.nbs/rel.parent/path).resolve()
        here = Path(self.pages[rel.as_posix()]).parent
        try: key = src.relative_to(self.nbs.resolve()).as_posix()
        except ValueError: key = None
        if key in self.pages: dest = Path(self.pages[key] + '.ipynb')
        elif src.is_file() and src.is_relative_to(self.root):
            dest = Path('_files')/src.relative_to(self.root)
            self._write(dest, src.read_bytes())
        else: return url  # left as written: Sphinx reports what it cannot resolve
        rel_url = Path(*(['..'] * len(here.parts)), dest).as_posix()
        return rel_url + (f'#{anchor}' if anchor else '')

    def _markdown(self, rel: Path, src: str) -> str:
        "Rewrite links and turn backticked names of the package into cross-references (outside code fences)."
        lines, fenced = [], False
        for line in src.splitlines():
            if _FENCE.match(line.strip()): fenced = not fenced
            if not fenced:
                line = _LINK.sub(lambda m: m[1] + self._target(rel, m[2]) + m[3], line)
                line = _TICK.sub(self._xref, line)
            lines.append(line)
        return '\n'.join(lines)

    def _xref(self, m) -> str:
        full = self.syms.get(m[1])
        return f'{{py:obj}}`{m[1]}{m[2] or ""} <{full}>`' if full else m[0]

    def _cell(self, rel: Path, cell, default_mod: str | None) -> dict | None:
        "One processed nbdev cell -> an nbformat cell (None to drop it)."
        src = cell.get('source', '')
        if cell.cell_type == 'raw': return None
        if cell.cell_type == 'markdown':
            return dict(cell_type='markdown', metadata={}, source=self._markdown(rel, src))
        names = re.findall(r'^\s*show_doc\(\s*([\w.]+)', src, re.M)
        if names:
            blocks = []
            for n in names:
                full = self.syms.get(n) or (f'{self.lib}.{default_mod}.{n}' if default_mod else n)
                try: blocks.append(_autodoc(full, self.seen))
                except LookupError as e: self.problems.append(f'nbs/{rel.as_posix()}: {e}')
            return dict(cell_type='markdown', metadata={}, source='\n\n'.join(blocks)) if blocks else None
        d = {k: ' '.join(v).strip().lower() for k, v in (cell.get('directives_') or {}).items()}
        if d.get('include') == 'false': return None
        tags = (['remove-input'] if d.get('echo') == 'false' else []) + \
               (['remove-output'] if d.get('output') == 'false' else []) + \
               (['hide-input'] if 'code-fold' in d and d['code-fold'] != 'false' else [])
        outputs = []
        for o in cell.get('outputs', []):
            o = json.loads(json.dumps(o))
            html = o.get('data', {}).get('text/html')
            if html is not None:
                h = _CDN_SCRIPT.sub('', ''.join(html))
                if 'plotly' in h.lower(): self.plotly.add(self.pages[rel.as_posix()])
                if not h.strip() or re.fullmatch(r'\s*(<script>[^<]*</script>\s*)+', h):
                    continue  # only a renderer's set-up, now empty
                o['data']['text/html'] = h
            outputs.append(o)
        code = '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')).strip()
        return dict(cell_type='code', metadata=dict(tags=tags) if tags else {}, source=code,
                    outputs=outputs, execution_count=cell.get('execution_count'))

    def notebook(self, rel: Path) -> dict:
        "Process one notebook with nbdev's documentation processors, without executing anything."
        from execnb.nbio import read_nb
        from nbdev.process import NBProcessor
        import nbdev.processors as P
        nb = read_nb(self.nbs/rel)
        exp = next((m[1] for c in nb.cells if c.cell_type == 'code'
                    for m in [re.search(r'^#\|\s*default_exp\s+(\S+)', c.source, re.M)] if m), None)
        procs = [P.populate_language, P.add_show_docs, P.strip_ansi, P.hide_line, P.filter_stream_,
                 P.rm_header_dash, P.clean_show_doc, P.rm_export, P.clean_magics, P.hide_, P.mv_exports,
                 P.strip_hidden_metadata]
        NBProcessor(nb=nb, procs=procs).process()
        cells = [c for c in (self._cell(rel, c, exp) for c in nb.cells if c.get('source') is not None) if c]

        first = next((c for c in cells if c['cell_type'] == 'markdown'), None)
        if first:  # nbdev's `> subtitle` under the title: a lead paragraph
            first['source'] = re.sub(r'^> ?(.*)$', r'{.nv-subtitle}\n\1', first['source'], count=1, flags=re.M)
        return dict(nbformat=4, nbformat_minor=5, cells=cells,
                    metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python'),
                                  language_info=dict(name='python', pygments_lexer='ipython3')))

    def _write(self, rel: Path | str, data: bytes | str):
        "Write a file under `out` only when its content changed, so Sphinx rebuilds only what changed."
        p = self.out/rel
        data = data.encode() if isinstance(data, str) else data
        self.written.add(p)
        if p.exists() and p.read_bytes() == data: return
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + '.tmp'); tmp.write_bytes(data); tmp.replace(p)

    def section_page(self, slug: str, title: str, rels: list[Path], titles: dict) -> str:
        "A section's page: a short list of its notebooks with their subtitles, and the toctree."
        items = [f'- [{titles[r][0]}]({self.pages[r.as_posix()]}.ipynb): {titles[r][1]}' for r in rels]
        toc = ['```{toctree}', ':hidden:', ':maxdepth: 2', '', *[self.pages[r.as_posix()] for r in rels], '```']
        return '\n'.join([f'# {title}', '', *items, '', *toc, ''])

    def build(self):
        "Write every page, the section pages and the home page's toctree; remove stale generated files."
        titles, by_sec = {}, {s[0]: [] for s in SECTIONS}
        for rel in self.rels:
            try: nb = self.notebook(rel)
            except Exception as e: raise RuntimeError(f'nbs/{rel.as_posix()}: {type(e).__name__}: {e}') from e
            md = next((c['source'] for c in nb['cells'] if c['cell_type'] == 'markdown'), '')
            t = re.search(r'^#\s+(.+)$', md, re.M)
            sub = re.search(r'^\{\.nv-subtitle\}\n(.+)$', md, re.M)
            titles[rel] = (t[1].strip() if t else self.pages[rel.as_posix()], sub[1].strip() if sub else '')
            sec = section_of(rel)
            if sec: by_sec[sec].append(rel)
            else:
                nb['cells'].append(dict(cell_type='markdown', metadata={}, source='\n'.join(
                    ['```{toctree}', ':hidden:', '', *[s for s, *_ in SECTIONS if any(
                        section_of(r) == s for r in self.rels)], '```'])))
            for i, c in enumerate(nb['cells']): c['id'] = f'c{i}'
            self._write(self.pages[rel.as_posix()] + '.ipynb', json.dumps(nb, indent=1, ensure_ascii=False))
        for slug, title, _ in SECTIONS:
            if by_sec[slug]: self._write(f'{slug}.md', self.section_page(slug, title, by_sec[slug], titles))
        for p in self.out.rglob('*'):
            if p.is_file() and p not in self.written: p.unlink()


def md2rst(text: str) -> str:
    "nbdev's Markdown docstrings and docments as reStructuredText: code spans kept, stray markup escaped."
    out, parts = [], re.split(r'(`[^`]+`)', text)
    for i, part in enumerate(parts):
        if i % 2:  # rst needs a space or punctuation around inline markup: `\ ` joins it to a word
            pre = '\\ ' if parts[i - 1] and not re.search(r'[\s\-:/\'"(\[{<]$', parts[i - 1]) else ''
            post = '\\ ' if i + 1 < len(parts) and parts[i + 1] and not re.match(r'[\s\-.,:;!?/\'")\]}>]',
                                                                                   parts[i + 1]) else ''
            code = part if re.fullmatch(r'`[A-Za-z_][\w.]*`', part) else f'``{part[1:-1]}``'
            out.append(pre + code + post)
        else:
            part = re.sub(r'\*\*(\S(?:.*?\S)?)\*\*', '\x00\\1\x00', part.replace('\\', '\\\\'))
            part = re.sub(r'(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])', '\x01\\1\x01', part)
            part = re.sub(r'([*|`])', r'\\\1', part)
            part = re.sub(r'(?<=\w)_(?=\W|$)', r'\\_', part).replace('\x00', '**').replace('\x01', '*')
            out.append(part)
    return ''.join(out)


def _add_docments(app, what, name, obj, options, lines):
    "Docstrings read as Markdown; each parameter's docment appended as a `:param:` field, the return's as `:returns:`."
    lines[:] = [md2rst(l) for l in lines]
    if what not in ('function', 'method', 'class'): return
    try:
        from fastcore.docments import docments
        docs = docments(obj, full=True)
    except Exception: return
    have = '\n'.join(lines)
    extra = [f':param {k}: {md2rst(v["docment"])}' for k, v in docs.items()
             if k != 'return' and v.get('docment') and f':param {k}:' not in have]
    ret = docs.get('return', {}).get('docment')
    if ret and ':returns:' not in have: extra.append(f':returns: {md2rst(ret)}')
    if extra: lines.extend(['', *extra])


def _generate(app):
    "`builder-inited`: regenerate the notebook pages in the source folder."
    cfg = app.config
    pages = NotebookPages(Path(cfg.nbdocs_root), Path(cfg.nbdocs_root)/cfg.nbdocs_nbs, Path(app.srcdir), cfg.nbdocs_lib)
    pages.build()
    app.nbdocs_plotly = pages.plotly
    for p in pages.problems: logger.warning(p)


def _page_assets(app, pagename, templatename, context, doctree):
    "Load the local plotly.js only on pages whose outputs draw plotly figures."
    if pagename in getattr(app, 'nbdocs_plotly', ()): app.add_js_file('plotly.min.js', priority=400)


def _static_files(app, exc):
    "Copy plotly.js (from the plotly package) and MathJax (from `nbdocs_mathjax`) into the build's `_static`."
    import plotly
    if exc is not None or app.builder.format != 'html': return
    static = Path(app.outdir)/'_static'
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(plotly.__file__).parent/'package_data'/'plotly.min.js', static/'plotly.min.js')
    mj = Path(app.config.nbdocs_mathjax)
    if not mj.is_file(): raise FileNotFoundError(f'MathJax not found at {mj}: run `python3 dev.py docs` to install it')
    shutil.copyfile(mj, static/'mathjax.js')


def setup(app):
    app.add_config_value('nbdocs_root', '.', 'env')
    app.add_config_value('nbdocs_nbs', 'nbs', 'env')
    app.add_config_value('nbdocs_lib', '', 'env')
    app.add_config_value('nbdocs_mathjax', '', 'html')
    app.connect('builder-inited', _generate)
    app.connect('build-finished', _static_files)
    app.connect('autodoc-process-docstring', _add_docments)
    app.connect('html-page-context', _page_assets)
    return dict(parallel_read_safe=True, parallel_write_safe=True)
