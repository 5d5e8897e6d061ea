#!/usr/bin/env python3
"""Build the documentation site as static HTML that opens offline, without Quarto.

    python3 dev.py docs                  # or: .venv/bin/python tools/build_docs.py
    .venv/bin/python tools/build_docs.py --force --strict

Every notebook under `nbs/` (folders and files starting with `_` or `.` are skipped, as nbdev does) goes
through nbdev's own documentation processors (front matter from the title cell, `#| hide` and export cells
dropped, `show_doc` added for exported names and executed), then nbconvert's JupyterLab HTML renderer,
inside a small page shell with a sidebar and an on-page contents list. Only what `show_doc` needs is run
(exports, imports, `show_doc` cells; of a cell that mixes imports with other code, only its imports), never
whole notebooks. Pages are named as nbdev names them for Quarto (`00_core.ipynb` -> `core.html`), so
nbdev's cross-reference links work; links to `.ipynb` files point to their pages. Plotly figures use a local
`plotly.min.js` and formulas are drawn by matplotlib's mathtext: nothing is fetched from the network.

Processed notebooks and page bodies are cached in `_site/.cache/` (`--force` redoes everything), so a rebuild
reprocesses only the notebooks that changed. A notebook that fails is reported and its page is rendered
without API docs (or left out if unreadable); the build goes on, and only `--strict` makes it exit non-zero.
"""
from __future__ import annotations
import argparse, base64, hashlib, html, json, os, re, shutil, signal, subprocess, sys, tempfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = '@@nbdoc '  # prefix of the status lines a worker prints for its parent
CACHE_DIR = '.cache'


# ---------------------------------------------------------------------------------------------------------
# Stage 1 (worker process): nbdev's processors, which execute the export/import and show_doc cells
# ---------------------------------------------------------------------------------------------------------

_DOC_DIRECTIVES = {'export', 'exports', 'exporti', 'exec_doc'}
TOLERATED = []  # (first line, error) of failing cells skipped by `_tolerant_exec_show_docs`, per notebook
MIXED = []  # first lines of cells that mix imports with other code (only their imports were run), per notebook


def _first_line(src): return next((l.strip() for l in (src or '').splitlines() if l.strip()), '')[:60]


def _tolerant_exec_show_docs():
    "nbdev's `exec_show_docs`, but cells mixing imports with code run only their imports, and only docs can fail."
    import ast
    from nbdev.processors import exec_show_docs, _do_eval
    def critical(cell):
        return bool(set(getattr(cell, 'directives_', {}) or {}) & _DOC_DIRECTIVES
                    or re.search(r'^\s*show_doc\(', cell.source or '', re.MULTILINE))
    class tolerant_exec_show_docs(exec_show_docs):
        # Besides exports and show_doc cells, nbdev runs every cell that contains an import. A cell that mixes
        # imports with other code (an example, or a test starting with `import ...`) then runs in full: slowly (a
        # training example) or into an error (it uses names from cells that are not run), which stops `nbdev_docs`.
        # Here only its import statements run and the cell is reported; a failing cell that is neither an export
        # nor a show_doc is skipped and reported, so the page keeps its API docs.
        def __call__(self, cell):
            if self._imports_only(cell): return
            saved = [dict(o) for o in cell.get('outputs', [])] if cell.get('cell_type') == 'code' else None
            try: super().__call__(cell)
            except Exception:
                if critical(cell) or not hasattr(self, 'k') or self.k.exc is None: raise
                TOLERATED.append((_first_line(cell.source), f'{type(self.k.exc).__name__}: {self.k.exc}'))
                self.k.exc = None
                if saved is not None: cell['outputs'] = saved

        def _imports_only(self, cell):
            fm = getattr(self.nb, 'frontmatter_', {}) or {}
            if (not hasattr(self, 'k') or not self.nb.has_docs_ or cell.get('cell_type') != 'code' or critical(cell)
                or str(fm.get('skip_showdoc', '')).lower() in ('true', '1', 'yes')): return False
            try: body = ast.parse(cell.source).body
            except SyntaxError: return False  # magics: left to nbdev
            imports = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
            if not imports or len(imports) == len(body) or not _do_eval(cell): return False
            MIXED.append(_first_line(cell.source))
            res = self.k.run_cell('\n'.join(ast.get_source_segment(cell.source, n) for n in imports))
            err = getattr(res, 'error_in_exec', None) or getattr(res, 'error_before_exec', None)
            if err is not None: TOLERATED.append((_first_line(cell.source), f'{type(err).__name__}: {err}'))
            return True
    return tolerant_exec_show_docs


def _doc_procs(exec_docs=True):
    "nbdev's documentation processors, minus the ones that only make sense for Quarto or are applied later."
    from nbdev.processors import FilterDefaults
    # `add_links` runs in the parent so that every page links against the same, complete symbol index;
    # `insert_warning` only writes an HTML comment.
    skip = {'add_links', 'insert_warning'} | (set() if exec_docs else {'exec_show_docs'})
    tolerant = _tolerant_exec_show_docs()
    class DocProcs(FilterDefaults):
        def procs(self):
            return [tolerant if getattr(p, '__name__', '') == 'exec_show_docs' else p
                    for p in super().procs() if getattr(p, '__name__', '') not in skip]
    return DocProcs()


class _Timeout(Exception): pass


def _on_alarm(signum, frame): raise _Timeout('timed out')


def _process_one(nb_path, out_path, timeout):
    "Process one notebook into `out_path` (JSON); returns a status dict. Falls back to no show_doc execution."
    import warnings
    from execnb.nbio import read_nb, nb2dict
    status = dict(nb=str(nb_path), ok=True, degraded=False, error='', warnings=[], skipped_cells=[])
    t0 = time.time()
    for exec_docs in (True, False):
        cwd, sys_path = os.getcwd(), list(sys.path)
        TOLERATED.clear(); MIXED.clear()
        try:
            nb = read_nb(nb_path)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                alarm = getattr(signal, 'alarm', None)  # no SIGALRM on Windows: no per-notebook limit there
                if alarm: alarm(max(int(timeout), 1))
                try: _doc_procs(exec_docs)(nb)
                finally:
                    if alarm: alarm(0)
            status['warnings'] += [str(w.message).strip().splitlines()[0] for w in caught
                                   if not issubclass(w.category, DeprecationWarning)
                                   and 'containing imports and other code' not in str(w.message)][:5]
            status['skipped_cells'] = [f'the cell starting `{first}` failed ({err})' for first, err in TOLERATED]
            status['mixed_cells'] = list(MIXED)
            res = dict(nb=nb2dict(nb), frontmatter=getattr(nb, 'frontmatter_', {}) or {},
                       skipped_cells=status['skipped_cells'], mixed_cells=status['mixed_cells'])
            tmp = Path(str(out_path) + '.tmp')
            tmp.write_text(json.dumps(res, ensure_ascii=False))
            tmp.replace(out_path)
            break
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt): raise
            lines = str(e).strip().splitlines() or ['']
            msg = f'{type(e).__name__}: {lines[0]}' + (f' `{lines[1].strip()[:60]}`' if len(lines) > 1 else '')
            if e.__cause__ is not None: msg += f' <- {type(e.__cause__).__name__}: {str(e.__cause__).strip()[:300]}'
            status.update(ok=False, error=msg.strip())
            if not exec_docs: break
            status['degraded'] = True  # try again without executing show_doc cells
        finally:
            os.chdir(cwd); sys.path[:] = sys_path
    if status['degraded'] and Path(out_path).exists(): status['ok'] = True
    status['secs'] = round(time.time() - t0, 2)
    return status


def worker(jobs_file):
    "Process the notebooks listed in `jobs_file`, printing one status line per notebook."
    os.environ['IN_TEST'] = '1'  # as `nbdev_docs` does, so notebooks can shrink their examples
    if hasattr(signal, 'SIGALRM'): signal.signal(signal.SIGALRM, _on_alarm)
    jobs = json.loads(Path(jobs_file).read_text())
    for job in jobs:
        print(MARK + json.dumps(dict(start=job['nb'])), flush=True)
        st = _process_one(job['nb'], job['out'], job['timeout'])
        print(MARK + json.dumps(st), flush=True)


# ---------------------------------------------------------------------------------------------------------
# Stage 2 (parent): discover, dispatch to workers, render, write the site
# ---------------------------------------------------------------------------------------------------------

def find_notebooks(nbs):
    "Notebooks under `nbs` that nbdev documents: no parts starting with `_` or `.`; index first, then by path."
    found = [p for p in Path(nbs).rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(nbs).parts)]
    return sorted(found, key=lambda p: (p.relative_to(nbs).as_posix() != 'index.ipynb',
                                        len(p.relative_to(nbs).parts) > 1, p.relative_to(nbs).as_posix()))


def _settings_text():
    p = ROOT/'settings.ini'
    return p.read_text() if p.exists() else ''


def _settings():
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(_settings_text() or '[DEFAULT]\n')
    return dict(cp['DEFAULT'])


def _cache_key(nb_path):
    "Processed notebooks depend on the notebook, the processing code here, settings.ini and nbdev."
    import inspect, nbdev
    code = ''.join(inspect.getsource(f) for f in (_tolerant_exec_show_docs, _doc_procs, _process_one)).encode()
    h = hashlib.sha256()
    for b in (Path(nb_path).read_bytes(), code, _settings_text().encode(), nbdev.__version__.encode()):
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()[:20]


def _run_workers(jobs, n_workers, timeout, log):
    "Run jobs in `n_workers` worker processes; a crashed or hung worker costs only the notebook it was on."
    statuses, remaining = {}, list(jobs)
    env = dict(os.environ, IN_TEST='1', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'),
               MKL_NUM_THREADS=os.environ.get('MKL_NUM_THREADS', '1'),
               NEUROVIT_NUM_THREADS=os.environ.get('NEUROVIT_NUM_THREADS', '1'), PYTHONUNBUFFERED='1')
    while remaining:
        chunks = [remaining[i::n_workers] for i in range(min(n_workers, len(remaining)))]
        procs = []
        for chunk in chunks:
            jf = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
            json.dump(chunk, jf); jf.close()
            p = subprocess.Popen([sys.executable, __file__, '--worker', jf.name], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append((p, chunk, jf.name))
        for p, chunk, jf in procs:
            try: out, err = p.communicate(timeout=timeout*len(chunk) + 120)
            except subprocess.TimeoutExpired:
                p.kill(); out, err = p.communicate()
            Path(jf).unlink(missing_ok=True)
            started = None
            for line in out.splitlines():
                if not line.startswith(MARK): continue
                d = json.loads(line[len(MARK):])
                if 'start' in d: started = d['start']; continue
                statuses[d['nb']] = d; started = None
                _log_status(d, log)
            if started is not None and started not in statuses:  # the worker died on this notebook
                tail = ' '.join(err.strip().splitlines()[-3:])[-400:]
                d = dict(nb=started, ok=False, degraded=False, secs=None,
                         error=f'worker exited with code {p.returncode} while processing it: {tail}', warnings=[])
                statuses[started] = d; _log_status(d, log)
            elif started is None and p.returncode not in (0, None) and not any(j['nb'] in statuses for j in chunk):
                for j in chunk:  # the worker could not even start: report every notebook it had
                    statuses[j['nb']] = dict(nb=j['nb'], ok=False, degraded=False, secs=None, warnings=[],
                                             error=f'worker failed to start: {err.strip()[-400:]}')
        remaining = [j for j in remaining if j['nb'] not in statuses]
    return statuses


def _rel(p):
    try: return Path(p).resolve().relative_to(ROOT).as_posix()
    except ValueError: return str(p)


def _log_status(d, log):
    secs = f" ({d['secs']:.1f} s)" if d.get('secs') is not None else ''
    if d['ok'] and not d['degraded']: log(f"  processed {_rel(d['nb'])}{secs}")
    elif d['ok']: log(f"  WARNING {_rel(d['nb'])}: show_doc cells could not run, page built without API docs: {d['error']}")
    else: log(f"  ERROR {_rel(d['nb'])}: {d['error']}")
    for w in d.get('warnings', []): log(f'    warning: {w}')
    for c in d.get('skipped_cells', []): log(f'    skipped for docs: {c}')


# --- turning a processed notebook into the HTML body of a page ---------------------------------------------

_re_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_attr_after_link = re.compile(r'(\]\([^)\s]*(?:\s+"[^"]*")?\))\{[^}\n]*\}')
_re_heading_attrs = re.compile(r'^(#{1,6}\s.*?)\s*\{[#.][^}\n]*\}\s*$', re.MULTILINE)
_re_fence_div = re.compile(r'^:{3,}\s*(?:\{([^}]*)\}|([\w-]+))?\s*$')
_re_source_link = re.compile(r'\[source\]\(([^)\s]+)\)\{[^}\n]*\}')
_re_http_script = re.compile(r'<script\b[^>]*\bsrc\s*=\s*["\']?(?:https?:)?//[^>]*>\s*</script>', re.IGNORECASE)
_WIDGET = 'application/vnd.jupyter.widget-view+json'
_PLOTLY = 'application/vnd.plotly.v1+json'


def _split_directives(source):
    "Leading `#| key: value` lines (Quarto options nbdev leaves in place) -> (dict, remaining source)."
    lines, opts = source.splitlines(), {}
    while lines and _re_directive.match(lines[0]):
        k, v = _re_directive.match(lines[0]).groups()
        opts[k.lower()] = v.strip().strip('"\'')
        lines.pop(0)
    return opts, '\n'.join(lines)


def _fenced_divs(md):
    "Quarto `::: {.callout-note}` blocks -> HTML divs that still let the markdown inside render."
    out, depth, in_code = [], 0, False
    for line in md.splitlines():
        if line.lstrip().startswith(('```', '~~~')): in_code = not in_code
        m = None if in_code else _re_fence_div.match(line)
        if m is None: out.append(line); continue
        attrs = (m.group(1) or m.group(2) or '').strip()
        if not attrs and depth:
            out += ['', '</div>', '']; depth -= 1
        elif attrs:
            classes = ' '.join(c.lstrip('.') for c in attrs.split() if c.startswith('.') or '=' not in c and not c.startswith('#'))
            kind = next((c for c in classes.split() if c.startswith('callout')), '')
            out += ['', f'<div class="nv-div {html.escape(classes)}">', '']
            if kind: out += [f'<p class="nv-callout-title">{html.escape(kind.split("-", 1)[-1].capitalize())}</p>', '']
            depth += 1
    out += ['', '</div>'] * depth
    return '\n'.join(out)


def _clean_markdown(md, show_doc=False):
    if show_doc: md = _re_source_link.sub(r'<a class="nv-source" href="\1" target="_blank" rel="noopener">source</a>', md)
    md = _re_attr_after_link.sub(r'\1', md)
    md = _re_heading_attrs.sub(r'\1', md)
    md = md.replace('<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->', '')
    return _fenced_divs(md)


def _join(x): return ''.join(x) if isinstance(x, list) else (x or '')


def _plotly_html(fig, div_id):
    "A plotly figure JSON -> a div plus a script that draws it with the page's local plotly.js."
    layout = dict(fig.get('layout') or {})
    height = int(layout.get('height') or 450)
    config = dict(responsive=True, displaylogo=False, **(fig.get('config') or {}))
    payload = json.dumps([fig.get('data') or [], layout, config]).replace('</', '<\\/')
    return (f'<div id="{div_id}" class="plotly-graph-div nv-plotly" style="height:{height}px; width:100%;"></div>\n'
            f'<script>(function(){{var a={payload};Plotly.newPlot("{div_id}",a[0],a[1],a[2]);}})();</script>')


def _rejoin(nb):
    "Multi-line strings stored as lists of lines (as in .ipynb files) -> strings, as nbformat's reader does."
    for cell in nb['cells']:
        cell.pop('has_sd', None)
        cell['source'] = _join(cell.get('source'))
        for o in cell.get('outputs', []):
            if 'text' in o: o['text'] = _join(o['text'])
            for k, v in (o.get('data') or {}).items():
                if isinstance(v, list) and (k.startswith('text/') or k.startswith('image/') or k.endswith('javascript')):
                    o['data'][k] = _join(v)


_re_script_block = re.compile(r'<script\b[^>]*>(.*?)</script>', re.S | re.I)


def _strip_inlined_plotlyjs(h):
    "Remove copies of plotly.js that notebook renderers inline into outputs (MBs each); the page loads one local copy."
    def repl(m):
        body = m.group(1)
        return '' if len(body) > 100_000 and 'plotly' in body[:2000].lower() else m.group(0)
    return _re_script_block.sub(repl, h)


def prepare_cells(nb, page_id, problems):
    "Apply the Quarto cell options nbdev leaves behind and make outputs render offline. Returns the page's needs."
    needs = dict(plotly=False, images=0)
    cells, n_plot = [], 0
    _rejoin(nb)
    for cell in nb['cells']:
        ctype, src = cell.get('cell_type'), _join(cell.get('source'))
        md = cell.setdefault('metadata', {})
        if ctype == 'raw': continue  # the front matter; rendered in the page header
        if ctype == 'markdown':
            cell['source'] = _clean_markdown(src)
            if cell['source'].strip(): cells.append(cell)
            continue
        opts, src = _split_directives(src)
        if opts.get('include', '').lower() == 'false': continue
        is_doc = src.lstrip().startswith('show_doc(') or opts.get('output') == 'asis'
        if opts.get('echo', '').lower() == 'false' or is_doc: md.setdefault('transient', {})['remove_source'] = True
        if opts.get('output', '').lower() == 'false': cell['outputs'] = []
        if is_doc: md.setdefault('tags', []).append('showdoc')
        if opts.get('code-fold', '').lower() in ('true', 'show'):
            md['nv_fold'] = opts.get('code-summary', 'Code'); md['nv_fold_open'] = opts['code-fold'].lower() == 'show'
        cell['source'] = src.strip('\n')
        outputs = []
        for out in cell.get('outputs', []):
            data = out.get('data')
            if data is not None:
                if _PLOTLY in data:
                    n_plot += 1; needs['plotly'] = True
                    fig = data[_PLOTLY] if isinstance(data[_PLOTLY], dict) else json.loads(_join(data[_PLOTLY]))
                    out['data'] = {'text/html': _plotly_html(fig, f'nv-plot-{page_id}-{n_plot}')}
                    data = out['data']
                if _WIDGET in data:
                    data.pop(_WIDGET)
                    data.pop('text/plain', None)
                    data['text/html'] = ('<p class="nv-widget-note">Interactive widget: open the notebook in '
                                         'JupyterLab to use it.</p>')
                if 'text/html' in data:
                    h = _join(data['text/html'])
                    if 'plotly' in h.lower():
                        h = _strip_inlined_plotlyjs(h)
                        needs['plotly'] = True
                        if 'newPlot' not in h and not re.sub(r'<[^>]+>|\s', '', h):
                            continue  # only the notebook renderer's plotly.js set-up was in this output
                    n_cdn = len(_re_http_script.findall(h))
                    if n_cdn:
                        h = _re_http_script.sub('', h)
                        problems.append(f'removed {n_cdn} network <script src> from an output (page works offline)')
                    data['text/html'] = h
                if 'text/markdown' in data:
                    data['text/markdown'] = _clean_markdown(_join(data['text/markdown']), show_doc=is_doc)
                needs['images'] += sum(k.startswith('image/') for k in data)
            outputs.append(out)
        cell['outputs'] = outputs
        if not cell['source'].strip() and not outputs: continue
        if md.get('transient', {}).get('remove_source') and not outputs: continue
        cells.append(cell)
    nb['cells'] = cells
    nb['metadata'].pop('widgets', None)  # widget state needs a network-loaded manager; dropped
    return needs


def _add_links(nb):
    "nbdev's cross-reference links (backticked names -> their docs), as `add_links` does for Quarto."
    from nbdev.doclinks import NbdevLookup
    nl = NbdevLookup()
    for cell in nb['cells']:
        if cell.get('cell_type') == 'markdown': cell['source'] = nl.linkify(_join(cell['source']))
        for o in cell.get('outputs', []):
            if 'text/markdown' in o.get('data', {}):
                o['data']['text/markdown'] = nl.linkify(_join(o['data']['text/markdown']))


_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block header -%}{%- endblock header -%}
{%- block body_header -%}{%- endblock body_header -%}
{%- block body_footer -%}{%- endblock body_footer -%}
{%- block footer -%}{%- endblock footer -%}
{% block input_group -%}
{%- if cell.metadata.get('nv_fold') -%}
<details class="nv-fold"{% if cell.metadata.get('nv_fold_open') %} open{% endif %}><summary>{{ cell.metadata.nv_fold | escape_html }}</summary>
{{ super() }}
</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
"""


def make_exporter():
    import jinja2
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.anchor_link_text = '#'
    ex = HTMLExporter(config=c, template_name='lab', extra_loaders=[jinja2.DictLoader({'nv_page.html.j2': _TEMPLATE})])
    ex.template_file = 'nv_page.html.j2'
    return ex


def _slug(text):
    "Pandoc-style heading identifiers, which nbdev's doc links use (`core.html#config`)."
    s = re.sub(r'[^\w\s.-]', '', text.strip().lower())
    s = re.sub(r'\s+', '-', s).strip('-')
    return s or 'section'


# --- the page shell -----------------------------------------------------------------------------------------

SITE_CSS = r"""
:root { --nv-sidebar: 250px; --nv-toc: 220px; --nv-accent: #2f5d8a; --nv-border: #e2e5ea; --nv-muted: #5f6670; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body.nv { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; line-height: 1.55; font-size: 16px; }
.nv-layout { display: grid; grid-template-columns: var(--nv-sidebar) minmax(0, 1fr) var(--nv-toc); min-height: 100vh; }
.nv-sidebar { border-right: 1px solid var(--nv-border); background: #f7f8fa; padding: 18px 14px; position: sticky; top: 0;
  height: 100vh; overflow-y: auto; font-size: 14px; }
.nv-brand { display: block; font-weight: 700; font-size: 18px; color: #111; text-decoration: none; margin-bottom: 2px; }
.nv-version { color: var(--nv-muted); font-size: 12px; margin-bottom: 14px; }
.nv-sidebar ul { list-style: none; margin: 0; padding: 0; }
.nv-sidebar li a { display: block; padding: 3px 8px; border-radius: 4px; color: #2d333b; text-decoration: none; }
.nv-sidebar li a:hover { background: #e9edf3; }
.nv-sidebar li a.nv-active { background: #dde7f3; color: var(--nv-accent); font-weight: 600; }
.nv-sidebar .nv-section { margin: 14px 0 4px 8px; text-transform: uppercase; letter-spacing: .05em; font-size: 11.5px;
  color: var(--nv-muted); font-weight: 600; }
.nv-sidebar li.nv-failed a::after { content: " (!)"; color: #b42318; }
.nv-main { padding: 28px 44px 60px; min-width: 0; max-width: 980px; }
.nv-title { font-size: 2.1em; margin: 0 0 6px; line-height: 1.2; }
.nv-description { color: var(--nv-muted); font-size: 1.12em; margin: 0 0 22px; }
.nv-banner { border: 1px solid #f0b429; background: #fff8e6; padding: 10px 14px; border-radius: 6px; margin-bottom: 18px; font-size: 14px; }
.nv-toc { padding: 28px 16px; font-size: 13px; position: sticky; top: 0; height: 100vh; overflow-y: auto; }
.nv-toc .nv-toc-title { font-weight: 600; margin-bottom: 6px; color: var(--nv-muted); }
.nv-toc ul { list-style: none; padding: 0; margin: 0; }
.nv-toc li { margin: 3px 0; }
.nv-toc li.nv-toc-h3 { padding-left: 12px; }
.nv-toc a { color: #444c56; text-decoration: none; overflow-wrap: anywhere; }
.nv-toc a:hover { color: var(--nv-accent); }
.nv-footer { margin-top: 48px; padding-top: 12px; border-top: 1px solid var(--nv-border); color: var(--nv-muted); font-size: 13px; }
.nv-main a, .nv-main a code { color: var(--nv-accent); }
.nv-main .jp-RenderedMarkdown pre { background: #f6f8fa; border: 1px solid var(--nv-border); border-radius: 6px; padding: 8px 10px; }
/* notebook content: JupyterLab's renderer, tuned for reading */
.nv-main .jp-Notebook { padding: 0; }
.nv-main .jp-Cell { padding: 0; margin: 0 0 10px; }
.nv-main .jp-RenderedHTMLCommon { font-family: inherit; font-size: 16px; line-height: 1.6; color: inherit; padding-right: 0; }
.nv-main .jp-RenderedHTMLCommon h2 { margin-top: 1.6em; padding-bottom: .2em; border-bottom: 1px solid var(--nv-border); }
.nv-main .jp-RenderedHTMLCommon :is(h1,h2,h3,h4) .anchor-link { display: none; margin-left: 6px; color: #aab; text-decoration: none; }
.nv-main .jp-RenderedHTMLCommon :is(h1,h2,h3,h4):hover .anchor-link { display: inline; }
.nv-main .jp-InputArea-editor { border-radius: 6px; background: #f6f8fa; border: 1px solid var(--nv-border); }
.nv-main .jp-OutputArea-output pre { font-size: 13px; }
.nv-main .jp-OutputArea-output img { max-width: 100%; height: auto; }
/* logging goes to stderr: show it as a quiet log, not as an error */
.nv-main .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] { background: #f6f6f2; color: #4b5058; }
.nv-main .jp-Cell.celltag_showdoc { margin: 18px 0 10px; }
.nv-main .celltag_showdoc .jp-RenderedMarkdown { border-left: 3px solid var(--nv-accent); padding-left: 14px; }
.nv-main .celltag_showdoc hr { display: none; }
.nv-main .celltag_showdoc h3, .nv-main .celltag_showdoc h4 { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  margin: 0 0 6px; font-size: 1.08em; }
.nv-main .celltag_showdoc pre { background: #f6f8fa; border: 1px solid var(--nv-border); border-radius: 6px; padding: 8px 10px;
  white-space: pre-wrap; font-size: 13.5px; }
.nv-main a.nv-source { float: right; font-size: 12.5px; }
.nv-main details.nv-fold > summary { cursor: pointer; color: var(--nv-muted); font-size: 14px; margin-bottom: 4px; }
.nv-main .nv-div { border-left: 4px solid #8aa4c2; background: #f4f7fb; padding: 4px 14px; margin: 12px 0; border-radius: 4px; }
.nv-main .nv-div.callout-warning, .nv-main .nv-div.callout-caution { border-color: #f0b429; background: #fff8e6; }
.nv-main .nv-div.callout-important { border-color: #d64545; background: #fdf0f0; }
.nv-main .nv-div.callout-tip { border-color: #2f9e6b; background: #eef9f3; }
.nv-callout-title { font-weight: 600; margin-bottom: 0; }
.nv-main img.nv-math { display: inline; margin: 0 1px; }
.nv-main img.nv-math-display { display: block; margin: 10px auto; }
.nv-main .jp-RenderedMarkdown pre { font-size: 13.5px; }
.nv-widget-note { color: var(--nv-muted); font-style: italic; }
@media (max-width: 1100px) { .nv-layout { grid-template-columns: var(--nv-sidebar) minmax(0, 1fr); } .nv-toc { display: none; } }
@media (max-width: 720px) { .nv-layout { display: block; } .nv-sidebar { position: static; height: auto; } .nv-main { padding: 18px; } }
"""

REQUIRE_SHIM = """// Offline stand-in for require.js: notebook outputs that ask for "plotly" get the local copy this page loads.
(function () {
  if (window.require) return;
  function req(deps, cb) {
    if (typeof cb !== 'function') return;
    cb.apply(null, (deps || []).map(function (d) { return /plotly/i.test(d) ? window.Plotly : undefined; }));
  }
  req.config = function () {}; req.undef = function () {};
  window.require = window.requirejs = req;
})();
"""


def _nav_html(pages, current, root):
    "The sidebar: front page, then library pages grouped by their top-level module, then each subfolder."
    items, section = [], None
    for pg in pages:
        if pg['section'] != section:
            section = pg['section']
            if section: items.append(f'</ul><div class="nv-section">{html.escape(section)}</div><ul>')
        cls = ' class="nv-active"' if pg is current else ''
        li_cls = ' class="nv-failed"' if pg.get('failed') else ''
        items.append(f'<li{li_cls}><a{cls} href="{root}{pg["href"]}">{html.escape(pg["nav_title"])}</a></li>')
    return '<ul>' + '\n'.join(items) + '</ul>'


def _page_html(pg, pages, body, toc, site, root):
    fm = pg['frontmatter']
    title, desc = fm.get('title') or pg['stem'], fm.get('description') or ''
    head_js = ''
    if pg['needs'].get('plotly'):
        head_js = (f'<script src="{root}_static/require-shim.js"></script>\n'
                   f'<script src="{root}_static/plotly.min.js"></script>\n')
    styles = f'<link rel="stylesheet" href="{root}styles.css">\n' if site['styles'] else ''
    toc_html = ''
    if toc:
        toc_html = ('<nav class="nv-toc"><div class="nv-toc-title">On this page</div><ul>' +
                    ''.join(f'<li class="nv-toc-{lvl}"><a href="#{html.escape(i)}">{html.escape(t)}</a></li>' for lvl, i, t in toc) +
                    '</ul></nav>')
    else: toc_html = '<nav class="nv-toc"></nav>'
    banner = ''
    if pg.get('error'):
        banner = (f'<div class="nv-banner">This page was built without its API documentation: running its '
                  f'<code>show_doc</code> cells failed ({html.escape(pg["error"][:300])}).</div>')
    src_link = f'{site["git_url"]}/blob/{site["branch"]}/{site["nbs_rel"]}/{pg["rel"]}' if site['git_url'] else ''
    footer = (f'<footer class="nv-footer">Generated from <code>{html.escape(site["nbs_rel"] + "/" + pg["rel"])}</code>'
              + (f' (<a href="{html.escape(src_link)}">source</a>)' if src_link else '') + '.</footer>')
    page_title = html.escape(title if pg['rel'] == 'index.ipynb' else f'{title} – {site["title"]}')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{page_title}</title>
<meta name="description" content="{html.escape(desc)}">
<link rel="stylesheet" href="{root}_static/jupyterlab.css">
<link rel="stylesheet" href="{root}_static/site.css">
{styles}{head_js}</head>
<body class="nv jp-Notebook-body" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<div class="nv-layout">
<aside class="nv-sidebar">
<a class="nv-brand" href="{root}index.html">{html.escape(site['title'])}</a>
<div class="nv-version">version {html.escape(site['version'])}</div>
{_nav_html(pages, pg, root)}
</aside>
<main class="nv-main">
<header><h1 class="nv-title">{html.escape(title)}</h1>
{f'<p class="nv-description">{html.escape(desc)}</p>' if desc else ''}</header>
{banner}
<div class="jp-Notebook">
{body}
</div>
{footer}
</main>
{toc_html}
</div>
</body>
</html>
"""


_re_math = re.compile(r'\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])', re.S)
_re_big = re.compile(r'\\(?:big|Big|bigg|Bigg)[lr]?(?![a-zA-Z])')
_MATH_CACHE = {}


def _math_img(tex, display):
    "TeX -> an inline SVG image drawn by matplotlib's mathtext (no MathJax, no network); None if it can't parse it."
    key = (tex, display)
    if key not in _MATH_CACHE:
        import io
        import matplotlib; matplotlib.use('Agg')
        from matplotlib import mathtext
        from matplotlib.font_manager import FontProperties
        size = 14 if display else 12.5  # the page's body text is 16 px = 12 pt
        buf = io.BytesIO()
        try:
            depth = mathtext.math_to_image(f'${_re_big.sub("", tex.strip())}$', buf, prop=FontProperties(size=size),
                                           dpi=72, format='svg')
            uri = 'data:image/svg+xml;base64,' + base64.b64encode(buf.getvalue()).decode()
            _MATH_CACHE[key] = (uri, float(depth or 0))
        except Exception: _MATH_CACHE[key] = None
    return _MATH_CACHE[key]


def _render_math(soup):
    "Replace `$...$` and `$$...$$` left in rendered markdown with images of the formulas (TeX shown if unsupported)."
    from bs4 import NavigableString
    for block in soup.select('.jp-RenderedMarkdown'):
        for node in list(block.find_all(string=lambda t: '$' in t)):
            if node.find_parent(['code', 'pre', 'script', 'style']) is not None: continue
            text, pos, parts = str(node), 0, []
            for m in _re_math.finditer(text):
                display, tex = m.group(1) is not None, m.group(1) or m.group(2)
                parts.append(NavigableString(text[pos:m.start()])); pos = m.end()
                res = _math_img(tex, display)
                if res is None:
                    el = soup.new_tag('code'); el['class'] = 'nv-math-tex'; el.string = tex
                else:
                    uri, depth = res
                    el = soup.new_tag('img', src=uri, alt=tex); el['class'] = 'nv-math' + (' nv-math-display' if display else '')
                    if not display: el['style'] = f'vertical-align:-{depth * 4 / 3:.1f}px'
                parts.append(el)
            if not parts: continue
            parts.append(NavigableString(text[pos:]))
            for part in parts: node.insert_before(part)
            node.extract()


def _postprocess(body, pg, link_map, site, root):
    "Heading ids as nbdev's links expect them, links to notebooks and to the hosted docs made relative."
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(body, 'html.parser')
    if '$' in body: _render_math(soup)
    seen, toc = set(), []
    for h in soup.find_all(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']):
        for a in h.find_all('a', class_='anchor-link'): a.extract()
        text = h.get_text(' ', strip=True)
        hid = base = _slug(text); k = 1
        while hid in seen: hid = f'{base}-{k}'; k += 1
        seen.add(hid); h['id'] = hid
        anchor = soup.new_tag('a', href=f'#{hid}'); anchor['class'] = 'anchor-link'; anchor.string = '#'
        h.append(anchor)
        in_doc = h.find_parent(class_='celltag_showdoc') is not None
        if h.name == 'h2' or (h.name == 'h3' and in_doc) or (h.name == 'h3' and len(toc) < 40):
            toc.append(('h2' if h.name == 'h2' else 'h3', hid, text))
    doc_base = (site['doc_host'].rstrip('/') + '/' + site['doc_baseurl'].strip('/')).rstrip('/') + '/'
    for a in soup.find_all('a', href=True):
        href = a['href']
        if site['doc_host'] and href.startswith(doc_base): href = root + href[len(doc_base):]
        elif not re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', href, re.I):
            path, _, frag = href.partition('#')
            if path.endswith('.ipynb'):
                target = (pg['dir'] / path).as_posix() if pg['dir'].as_posix() != '.' else path
                target = os.path.normpath(target).replace(os.sep, '/')
                if target in link_map: href = root + link_map[target] + (f'#{frag}' if frag else '')
                else: href = path[:-len('.ipynb')] + '.html' + (f'#{frag}' if frag else '')
        a['href'] = href
    return str(soup), toc


def _site_info(nbs):
    s = _settings()
    git_url = s.get('git_url', '').rstrip('/')
    try: nbs_rel = Path(nbs).resolve().relative_to(ROOT).as_posix()
    except ValueError: nbs_rel = Path(nbs).name
    return dict(title=s.get('title') or s.get('lib_name') or 'Documentation', version=s.get('version', ''),
                git_url=git_url, branch=s.get('branch', 'main'), doc_host=s.get('doc_host', ''),
                doc_baseurl=s.get('doc_baseurl', ''), nbs_rel=nbs_rel, styles=False)


def _section_for(rel, out_name):
    parts = Path(rel).parts
    if len(parts) > 1: return parts[0].replace('_', ' ').capitalize()
    stem = Path(out_name).stem
    return stem.split('.')[0] if '.' in stem else ''


def _write_static(static, need_plotly, log):
    static.mkdir(parents=True, exist_ok=True)
    import pygments.formatters
    from nbconvert import HTMLExporter
    css_parts = []
    for d in HTMLExporter(template_name='lab').template_paths:
        f = Path(d)/'static'/'index.css'
        if f.exists():
            css_parts += [f.read_text(), (Path(d)/'static'/'theme-light.css').read_text()]
            break
    try:
        from jupyterlab_pygments import JupyterStyle
        css_parts.append(pygments.formatters.HtmlFormatter(style=JupyterStyle).get_style_defs('.highlight'))
    except ImportError:
        css_parts.append(pygments.formatters.HtmlFormatter().get_style_defs('.highlight'))
    (static/'jupyterlab.css').write_text('\n'.join(css_parts))
    (static/'site.css').write_text(SITE_CSS)
    if need_plotly:
        try:
            import plotly
            src = Path(plotly.__file__).parent/'package_data'/'plotly.min.js'
            shutil.copyfile(src, static/'plotly.min.js')
            (static/'require-shim.js').write_text(REQUIRE_SHIM)
        except Exception as e:
            log(f'  ERROR plotly figures need plotly.min.js from the installed plotly package: {e}')
            return False
    return True


def _copy_assets(nbs, out):
    "Images and other files next to the notebooks that markdown cells may reference."
    exts = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.pdf', '.csv', '.css'}
    n = 0
    for p in Path(nbs).rglob('*'):
        rel = p.relative_to(nbs)
        if p.is_file() and p.suffix.lower() in exts and not any(x.startswith(('.', '_')) for x in rel.parts):
            (out/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copyfile(p, out/rel); n += 1
    return n


def _remove_stale(out, since):
    "Delete files under `out` older than this build, except the processing cache and the browser check's output."
    for p in sorted(out.rglob('*'), key=lambda p: -len(p.parts)):
        rel = p.relative_to(out).parts
        if rel[0] in (CACHE_DIR, '_check'): continue
        if p.is_file() and p.stat().st_mtime < since: p.unlink()
        elif p.is_dir() and not any(p.iterdir()): p.rmdir()


def build(nbs=None, out=None, force=False, workers=2, timeout=180, quiet=False):
    "Build the site; returns (pages, problems): `problems` lists notebooks that failed or were degraded."
    t0 = time.time()
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    nbs = Path(nbs or ROOT/_settings().get('nbs_path', 'nbs')).resolve()
    out = Path(out or ROOT/'_site').resolve()
    os.chdir(ROOT)  # nbdev finds settings.ini (and the docs link index) from the repo root, as nbdev_docs does
    notebooks = find_notebooks(nbs)
    log(f'building docs for {len(notebooks)} notebooks in {_rel(nbs)} -> {_rel(out)}')
    cache = out/CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    problems, notes, jobs, cached = [], [], [], {}
    for nb in notebooks:
        key = _cache_key(nb)
        cfile = cache/(re.sub(r'[^\w.-]', '_', nb.relative_to(nbs).as_posix()) + f'.{key}.json')
        cached[str(nb)] = cfile
        if force or not cfile.exists(): jobs.append(dict(nb=str(nb), out=str(cfile), timeout=timeout))
    live = {p.name for p in cached.values()} | {p.with_suffix('.body.json').name for p in cached.values()}
    for stale in cache.glob('*.json'):
        if stale.name not in live: stale.unlink()
    statuses = _run_workers(jobs, max(1, workers), timeout, log) if jobs else {}
    if len(jobs) < len(notebooks): log(f'  {len(notebooks) - len(jobs)} notebooks unchanged (cached)')

    # Assemble page records (in sidebar order) from the processed notebooks
    pages = []
    for nb in notebooks:
        st = statuses.get(str(nb), {})
        rel = nb.relative_to(nbs).as_posix()
        if st and not st.get('ok'):
            problems.append(f'{_rel(nb)}: {st.get("error")}'); continue
        try: data = json.loads(cached[str(nb)].read_text())
        except Exception as e:
            problems.append(f'{_rel(nb)}: processed notebook missing or unreadable ({e})'); continue
        fm = data['frontmatter']
        out_name = (Path(rel).parent/fm.get('output-file', Path(rel).with_suffix('.html').name)).as_posix()
        degraded = st.get('degraded', False)
        if degraded: problems.append(f'{_rel(nb)}: built without API docs: {st.get("error")}')
        for msg in data.get('skipped_cells', []):
            problems.append(f'{_rel(nb)}: {msg}; skipped, the page keeps its API docs')
        mixed = data.get('mixed_cells', [])
        if mixed:
            notes.append(f'{_rel(nb)}: {len(mixed)} cell(s) mix imports with other code (starting ' +
                         ', '.join(f'`{m}`' for m in mixed) + '): only their imports ran here; `nbdev_docs` '
                         'runs them whole, so keep imports in cells of their own')
        pages.append(dict(nb=nb, rel=rel, stem=nb.stem, href=out_name, dir=Path(rel).parent, data=data,
                          frontmatter=fm, nav_title='Home' if rel == 'index.ipynb' else (fm.get('title') or nb.stem), failed=degraded,
                          error=st.get('error') if degraded else '', section=_section_for(rel, out_name)))
    # degraded results are not kept: the next build tries the notebook again
    for pg in pages:
        if pg['failed']: cached[str(pg['nb'])].unlink(missing_ok=True)
    names = {}
    for pg in pages:
        if pg['href'] in names:
            problems.append(f'{_rel(pg["nb"])}: its page {pg["href"]} clashes with {_rel(names[pg["href"]])}; skipped')
            pg['skip'] = True
        else: names[pg['href']] = pg['nb']
    pages = [p for p in pages if not p.get('skip')]
    link_map = {pg['rel']: pg['href'] for pg in pages}

    t_render = time.time() - 1
    # Render in place; files this build did not write (pages of deleted notebooks) are removed at the end
    site = _site_info(nbs)
    styles = nbs/'styles.css'
    if styles.exists(): shutil.copyfile(styles, out/'styles.css'); site['styles'] = True
    n_assets = _copy_assets(nbs, out)
    ex = None
    from nbformat import from_dict
    # a page body depends on its processed notebook, the links to other pages and the symbol index
    modidx = ROOT/_settings().get('lib_path', _settings().get('lib_name', ''))/'_modidx.py'
    links_key = hashlib.sha256(json.dumps([link_map, site], sort_keys=True).encode() + Path(__file__).read_bytes()
                               + (modidx.read_bytes() if modidx.is_file() else b'')).hexdigest()[:20]
    rendered = []
    for pg in pages:
        try:
            depth = len(Path(pg['href']).parts) - 1
            root = '../' * depth
            bfile = cached[str(pg['nb'])].with_suffix('.body.json')
            hit = json.loads(bfile.read_text()) if bfile.exists() else {}
            if hit.get('key') == links_key and not pg['failed']:
                body, toc, pg['needs'], page_problems = hit['body'], hit['toc'], hit['needs'], hit['problems']
            else:
                if ex is None: ex = make_exporter()
                nb = pg['data']['nb']
                nb.setdefault('metadata', {})
                page_problems = []
                pg['needs'] = prepare_cells(nb, re.sub(r'\W', '-', pg['href']), page_problems)
                _add_links(nb)
                nb['metadata']['title'] = pg['frontmatter'].get('title', pg['stem'])
                body, _ = ex.from_notebook_node(from_dict(nb), resources=dict(metadata=dict(name=pg['stem'], path=str(pg['nb'].parent))))
                body, toc = _postprocess(body, pg, link_map, site, root)
                bfile.write_text(json.dumps(dict(key=links_key, body=body, toc=toc, needs=pg['needs'], problems=page_problems)))
            problems += [f'{_rel(pg["nb"])}: {p}' for p in page_problems]
            dest = out/pg['href']
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_page_html(pg, pages, body, toc, site, root), encoding='utf-8')
            rendered.append(pg)
        except Exception as e:
            problems.append(f'{_rel(pg["nb"])}: rendering failed: {type(e).__name__}: {e}')
            log(f'  ERROR rendering {_rel(pg["nb"])}: {type(e).__name__}: {e}')
            if os.environ.get('NV_DOCS_DEBUG'): traceback.print_exc()
    need_plotly = any(pg['needs'].get('plotly') for pg in rendered)
    if not _write_static(out/'_static', need_plotly, log): problems.append('plotly.min.js could not be copied')
    (out/'.nojekyll').write_text('')
    manifest = dict(pages=[dict(notebook=_rel(pg['nb']), page=pg['href'], title=pg['frontmatter'].get('title') or pg['stem'],
                                images=pg['needs']['images'], plotly=pg['needs']['plotly'], api_docs=not pg['failed'])
                           for pg in rendered], problems=problems, notes=notes)
    (out/'_pages.json').write_text(json.dumps(manifest, indent=1))
    _remove_stale(out, since=t_render)
    log(f'wrote {len(rendered)} pages, {n_assets} assets{", plotly.min.js" if need_plotly else ""} to {_rel(out)} '
        f'in {time.time() - t0:.0f} s; open {_rel(out)}/index.html')
    if notes:
        log(f'{len(notes)} note(s):')
        for n in notes: log(f'  - {n}')
    if problems:
        log(f'{len(problems)} problem(s):')
        for p in problems: log(f'  - {p}')
    return rendered, problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--nbs', default=None, help='notebook folder (default: nbs_path from settings.ini)')
    ap.add_argument('--out', default=None, help='output folder (default: _site)')
    ap.add_argument('--force', action='store_true', help='reprocess every notebook, ignoring the cache')
    ap.add_argument('--strict', action='store_true', help='exit non-zero if any notebook failed or lost its API docs')
    ap.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                    help='notebooks processed in parallel (each worker imports the library once)')
    ap.add_argument('--timeout', type=int, default=180, help='seconds allowed to process one notebook')
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker: return worker(a.worker)
    _, problems = build(a.nbs, a.out, force=a.force, workers=a.workers, timeout=a.timeout)
    return 1 if (a.strict and problems) else 0


if __name__ == '__main__':
    sys.exit(main())
