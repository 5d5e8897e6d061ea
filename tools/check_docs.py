#!/usr/bin/env python3
"""Check the offline docs site: build it, inspect its HTML, and load pages in headless Chromium.

    .venv/bin/python tools/check_docs.py              # build _site, check it, write _site/_check/*.png
    .venv/bin/python tools/check_docs.py --no-build   # check the _site that is there
    .venv/bin/python tools/check_docs.py --page data.io.html --page tutorials/sex.html

Checks on every page: a <title> and <h1> with the notebook's title; no <script src> or stylesheet that
would load from the network; every local link, image and script it references exists in the site;
pages whose notebook has figures show them as inline <img src="data:...">. Library pages (a notebook
with `#| default_exp`) must show at least one rendered `show_doc` signature. A small fixture site with a
matplotlib figure, plotly figures (as saved by JupyterLab and as require.js HTML), a widget and a callout
is built next to it, to check the conversions pages will need once notebooks have such outputs.

In the browser (Debian package `chromium`; `apt-get install -y chromium`), the front page, the chosen
pages and the fixture page are loaded from file:// with every host name unresolvable, so anything that
needs the network fails; screenshots go to `_site/_check/*.png` and the rendered DOM is checked (plotly
figures drawn). Exit status 1 if a check fails, 2 if Chromium is missing (use `--no-browser` to skip it).
"""
from __future__ import annotations
import argparse, base64, io, json, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio',
                  # no host name resolves: a page that still needs the network shows it in the screenshot
                  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost']


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'):
        p = shutil.which(name)
        if p: return p
    return None


def figure_view(page):
    """A copy of `page`, next to it, that starts at the section holding its first inline figure (or None).

    Headless Chromium's `--screenshot` does not follow scrolling to an anchor, so the cells above are dropped."""
    from bs4 import BeautifulSoup
    page = Path(page)
    soup = BeautifulSoup(page.read_text(encoding='utf-8'), 'html.parser')
    img = next((i for i in soup.find_all('img') if i.get('src', '').startswith('data:image/')
                and 'nv-math' not in i.get('class', [])), None)
    if img is None: return None
    cell = img.find_parent(class_='jp-Cell')
    h = img.find_previous(['h2', 'h3'])
    start = h.find_parent(class_='jp-Cell') if h is not None and h.find_parent(class_='jp-Cell') else cell
    if start is None: return None
    for prev in list(start.find_previous_siblings(class_='jp-Cell')): prev.decompose()
    view = page.with_name(f'.check-{page.name}')
    view.write_text(str(soup), encoding='utf-8')
    return view


def browse(chromium, page, png=None, dump_dom=False, size=(1280, 1600), timeout=120):
    "Load `page` (a file) in headless Chromium with a fresh profile; write a screenshot or return the DOM."
    with tempfile.TemporaryDirectory(prefix='nv-chromium-') as profile:
        args = [chromium, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', f'--window-size={size[0]},{size[1]}',
                '--virtual-time-budget=4000']
        args += ['--dump-dom'] if dump_dom else [f'--screenshot={png}']
        args.append(Path(page).resolve().as_uri())
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if dump_dom: return r.stdout
    if not Path(png).exists() or Path(png).stat().st_size == 0:
        raise RuntimeError(f'Chromium wrote no screenshot for {page} (exit {r.returncode}): {r.stderr.strip()[-500:]}')
    return png


# --- HTML checks ---------------------------------------------------------------------------------------------

def _remote(u): return bool(re.match(r'^(?:https?:)?//', u, re.I))


def check_page(site, page, info, lib_pages):
    "Problems found in one page's HTML."
    from bs4 import BeautifulSoup
    f = site/page
    soup = BeautifulSoup(f.read_text(encoding='utf-8'), 'html.parser')
    errs = []
    title = soup.title.get_text().strip() if soup.title else ''
    if not title: errs.append('no <title>')
    elif info['title'] not in title: errs.append(f'<title> is {title!r}, expected it to contain {info["title"]!r}')
    h1 = soup.find('h1', class_='nv-title')
    expected = info.get('heading', info['title'])
    if not h1 or h1.get_text().strip() != expected: errs.append(f'the page heading is not the notebook title {expected!r}')
    refs = []
    for tag, attr in (('script', 'src'), ('link', 'href'), ('img', 'src'), ('a', 'href'), ('iframe', 'src')):
        for el in soup.find_all(tag):
            u = el.get(attr)
            if not u: continue
            if _remote(u) and tag in ('script', 'link', 'iframe'): errs.append(f'<{tag} {attr}="{u}"> loads from the network')
            refs.append(u)
    for u in refs:  # every local reference must exist in the site
        if _remote(u) or re.match(r'^[a-z][a-z0-9+.-]*:', u, re.I) or u.startswith('#'): continue
        if not (f.parent/u.split('#')[0]).resolve().exists(): errs.append(f'broken local link or reference: {u}')
    figures = [i for i in soup.find_all('img') if i.get('src', '').startswith('data:image/') and 'nv-math' not in i.get('class', [])]
    if info.get('images') and not figures:
        errs.append(f'the notebook has {info["images"]} figure output(s) but the page has no inline <img>')
    if page in lib_pages:
        docs = soup.select('.celltag_showdoc')
        if not docs: errs.append('no rendered show_doc block (API docs missing)')
        elif not any(d.find(['h3', 'h4']) and d.find('pre') for d in docs): errs.append('show_doc blocks have no signature')
    if info.get('plotly') and not any('_static/plotly.min.js' in (s.get('src') or '') for s in soup.find_all('script')):
        errs.append('plotly output but plotly.min.js is not loaded')
    return errs


def library_pages(manifest):
    "Pages whose notebook exports a module (they must show API docs)."
    out = set()
    for p in manifest['pages']:
        src = (ROOT/p['notebook'])
        try: txt = src.read_text(encoding='utf-8')
        except OSError: continue
        if re.search(r'#\|\s*default_exp\s+\S+', txt): out.add(p['page'])
    return out


# --- fixture: the outputs real notebooks will have -----------------------------------------------------------

def _fixture_notebooks(d):
    "Write a small notebook folder whose saved outputs cover figures, plotly, widgets and callouts."
    import nbformat
    from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell, new_output
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    import plotly.graph_objects as go, plotly.io as pio
    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=70)
    x = np.linspace(0, 6, 50); ax.plot(x, np.sin(x)); ax.set_title('a matplotlib figure')
    buf = io.BytesIO(); fig.savefig(buf, format='png'); plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    pfig = go.Figure(go.Scatter(x=[1, 2, 3, 4], y=[0.2, 0.5, 0.7, 0.9], name='auc'))
    pfig.update_layout(height=300, title='a plotly figure (saved by JupyterLab)', margin=dict(t=40, b=30, l=40, r=10))
    fig_json = json.loads(pio.to_json(pfig))
    cdn_html = pio.to_html(pfig, include_plotlyjs='cdn', full_html=False)
    pfig2 = go.Figure(go.Bar(x=['CN', 'AD'], y=[3, 5])); pfig2.update_layout(height=280, title='plotly as require.js HTML')
    req_html = pio.to_html(pfig2, include_plotlyjs='require', full_html=False)
    nb = new_notebook(cells=[
        new_markdown_cell('# Fixture figures\n> Outputs the docs builder has to render offline.'),
        new_code_cell('#| hide\nfrom neurovit_nb.core import *\nfrom nbdev.showdoc import show_doc'),
        new_markdown_cell('Back to [the index](index.ipynb).\n\n::: {.callout-note}\nA Quarto callout, with **markdown** inside.\n:::'),
        new_code_cell('show_doc(seed_everything)'),
        new_code_cell('plt.plot(x, np.sin(x))', outputs=[new_output('display_data', data={'image/png': png, 'text/plain': '<Figure>'})]),
        new_code_cell('fig', outputs=[new_output('display_data', data={'application/vnd.plotly.v1+json': fig_json, 'text/html': cdn_html})]),
        new_code_cell('fig2.show()', outputs=[new_output('display_data', data={'text/html': req_html, 'text/plain': 'Figure'})]),
        new_code_cell('widgets.IntSlider()', outputs=[new_output('display_data', data={
            'application/vnd.jupyter.widget-view+json': {'model_id': 'abc', 'version_major': 2, 'version_minor': 0},
            'text/plain': 'IntSlider(value=0)'})]),
    ])
    nbformat.write(nb, d/'01_fixture.ipynb')
    idx = new_notebook(cells=[new_markdown_cell('# Fixture site\n> Front page.'), new_markdown_cell('See [figures](01_fixture.ipynb).')])
    nbformat.write(idx, d/'index.ipynb')


def check_fixture(out, chromium, log):
    errs = []
    with tempfile.TemporaryDirectory(prefix='nv-docs-fixture-') as d:
        d = Path(d)
        _fixture_notebooks(d)
        pages, problems = build_docs.build(nbs=d, out=out, force=True, quiet=True)
    errs += [f'fixture build: {p}' for p in problems if 'network <script src>' not in p]
    manifest = json.loads((out/'_pages.json').read_text())
    for p in manifest['pages']:
        errs += [f'fixture {p["page"]}: {e}' for e in check_page(out, p['page'], p, {'fixture.html'})]
    page = out/'fixture.html'
    if not page.exists(): return errs + ['fixture page fixture.html was not written'], None
    text = page.read_text()
    if 'cdn.plot.ly' in text and re.search(r'<script[^>]+cdn\.plot\.ly', text): errs.append('fixture: CDN plotly script left in')
    if 'href="index.html"' not in text: errs.append('fixture: link to index.ipynb was not rewritten to index.html')
    if 'nv-widget-note' not in text: errs.append('fixture: widget output not replaced by a note')
    if 'callout-note' not in text: errs.append('fixture: callout not rendered')
    shot = None
    if chromium:
        dom = browse(chromium, page, dump_dom=True)
        from bs4 import BeautifulSoup
        n_plots = len(BeautifulSoup(dom, 'html.parser').select('div.js-plotly-plot'))
        if n_plots < 2: errs.append(f'fixture: {n_plots} of 2 plotly figures were drawn offline')
        shot = browse(chromium, page, png=out.parent/'fixture.png')
        log(f'  fixture: {n_plots} plotly figures drawn offline; screenshot {build_docs._rel(shot)}')
    return errs, shot


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--site', default=str(ROOT/'_site'), help='the site folder')
    ap.add_argument('--no-build', action='store_true', help='check the existing site instead of building it')
    ap.add_argument('--force', action='store_true', help='rebuild every page (ignore the processing cache)')
    ap.add_argument('--page', action='append', default=[], help='page to load in the browser besides index.html (default: core.html)')
    ap.add_argument('--no-browser', action='store_true', help='skip the Chromium checks')
    ap.add_argument('--no-fixture', action='store_true', help='skip the fixture site')
    a = ap.parse_args(argv)
    log = lambda *x: print(*x, flush=True)
    t0 = time.time()
    site = Path(a.site).resolve()
    if not a.no_build: build_docs.build(out=site, force=a.force)
    if not (site/'_pages.json').exists(): sys.exit(f'{site} has no _pages.json: build the site first (python3 dev.py docs)')
    manifest = json.loads((site/'_pages.json').read_text())
    chromium = None if a.no_browser else find_chromium()
    if not a.no_browser and not chromium:
        print('Chromium not found: install it (`apt-get update && apt-get install -y chromium`) or pass --no-browser')
        return 2
    check_dir = site/'_check'
    shutil.rmtree(check_dir, ignore_errors=True); check_dir.mkdir(parents=True)

    errs = [f'build: {p}' for p in manifest.get('problems', [])]
    n_build_errs = len(errs)
    lib = library_pages(manifest)
    by_page = {p['page']: p for p in manifest['pages']}
    if 'index.html' not in by_page: errs.append('no index.html (nbs/index.ipynb missing or failed)')
    for p in manifest['pages']:
        errs += [f'{p["page"]}: {e}' for e in check_page(site, p['page'], p, lib)]
    n_img_pages = sum(1 for p in manifest['pages'] if p['images'])
    log(f'checked {len(manifest["pages"])} pages ({len(lib)} library pages, {n_img_pages} with figures)')

    shots = []
    if chromium:
        wanted = ['index.html'] + (a.page or ['core.html'])
        for page in wanted:
            if page not in by_page: errs.append(f'{page}: no such page to load in the browser'); continue
            png = check_dir/(page.replace('/', '__').rsplit('.', 1)[0] + '.png')
            try: shots.append(browse(chromium, site/page, png=png))
            except Exception as e: errs.append(f'{page}: browser: {e}')
        # and the first figure of the first page that has figures
        fig_page = next((p['page'] for p in manifest['pages'] if p['images']), None)
        view = figure_view(site/fig_page) if fig_page else None
        if view:
            try: shots.append(browse(chromium, view, png=check_dir/(fig_page.replace('/', '__').rsplit('.', 1)[0] + '-figure.png')))
            except Exception as e: errs.append(f'{fig_page}: browser: {e}')
            finally: view.unlink()
    if not a.no_fixture:
        ferrs, shot = check_fixture(check_dir/'fixture', chromium, log)
        errs += ferrs
        if shot: shots.append(shot)
    for s in shots: log(f'  screenshot {build_docs._rel(s)}')
    log(f'docs check finished in {time.time() - t0:.0f} s')
    if errs:
        log(f'{len(errs)} problem(s) ({n_build_errs} reported by the build):')
        for e in errs: log(f'  - {e}')
        return 1
    log('docs site OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
