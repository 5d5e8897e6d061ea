#!/usr/bin/env python3
"""Open every page of the built docs site in headless Chromium and fail on a broken page or link.

    .venv/bin/python tools/check_site.py [_site]

The site is served on 127.0.0.1 and Chromium (Debian's `chromium` + `chromium-driver`, driven by selenium) may not
resolve any other host, so a page that needs the network fails here. A page is broken when the browser logs an
error (a JavaScript exception, a resource that did not load), when the server answered a request with an error,
when a plotly figure was not drawn or a formula was not typeset. A link is broken when it points into the site at
a file that is not there, or at an anchor that the target page does not have. Links leaving the site are counted,
not followed. Exit code 0 when everything passes, 1 otherwise.
"""
from __future__ import annotations
import argparse, functools, http.server, shutil, sys, tempfile, threading, time
from pathlib import Path
from urllib.parse import urldefrag, urlsplit, unquote

FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']
# What a page reports back once loaded: its links, its ids, and whether its figures and formulas were drawn.
PAGE_JS = """
const done = arguments[arguments.length - 1];
const typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
typeset.then(() => done({
  links: Array.from(document.querySelectorAll('a[href], link[href], img[src], script[src]'),
                    e => e.href || e.src),
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
  plots: document.querySelectorAll('.plotly-graph-div').length,
  drawn: document.querySelectorAll('.plotly-graph-div:has(.main-svg)').length,
  math: document.querySelectorAll('.math').length,
  typeset: document.querySelectorAll('mjx-container').length,
})).catch(e => done({error: String(e)}));
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    "Serves the site quietly and records every request answered with an error."
    errors: list = []
    def log_message(self, fmt, *args): pass
    def send_error(self, code, message=None, explain=None):
        if self.path != '/favicon.ico': self.errors.append(f'HTTP {code} for {self.path}')
        super().send_error(code, message, explain)


def serve(site: Path):
    "Serve `site` on a free local port in a background thread; returns (server, base URL)."
    handler = functools.partial(_Handler, directory=str(site))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


def browser(chromium: str, driver: str, profile: str):
    "A headless Chromium session with a fresh profile, its console kept for inspection."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(options=opts, service=Service(executable_path=driver))
    d.set_script_timeout(60); d.set_page_load_timeout(120)
    return d


def check_page(d, url: str) -> tuple[dict, list[str]]:
    "Load one page; returns what it reports and the problems seen in its console or drawing."
    d.get(url)
    info = d.execute_async_script(PAGE_JS)
    problems = [f'console: {e["message"][:300]}' for e in d.get_log('browser')
                if e['level'] == 'SEVERE' and '/favicon.ico' not in e['message']]  # Chromium asks for one itself
    if 'error' in info: problems.append(f'script error: {info["error"]}')
    if info.get('plots', 0) > info.get('drawn', 0):
        problems.append(f'{info["plots"] - info["drawn"]} plotly figures not drawn')
    if info.get('math', 0) and not info.get('typeset', 0): problems.append(f'{info["math"]} formulas not typeset')
    return info, problems


def check_links(site: Path, base: str, pages: dict) -> tuple[list[str], int, int]:
    "Internal links must reach a file of the site, and an id of the target page when they name one."
    problems, n_int, n_ext = [], 0, 0
    for page, info in pages.items():
        for href in info.get('links', []):
            if not href.startswith(base):
                n_ext += urlsplit(href).scheme in ('http', 'https')
                continue
            n_int += 1
            url, frag = urldefrag(href)
            rel = unquote(urlsplit(url).path)[1:]
            target = site/rel
            if target.is_dir(): target, rel = target/'index.html', (rel.rstrip('/') + '/index.html').lstrip('/')
            if not target.is_file(): problems.append(f'{page}: link to missing {rel}'); continue
            if frag and rel in pages and unquote(frag) not in pages[rel]['ids']:
                problems.append(f'{page}: link to missing anchor {rel}#{frag}')
    return problems, n_int, n_ext


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default='_site', help='folder of the built site')
    chromium = next(filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))), '')
    ap.add_argument('--chromium', default=chromium or '/usr/bin/chromium', help='Chromium (or Chrome) binary')
    ap.add_argument('--driver', default=shutil.which('chromedriver') or '/usr/bin/chromedriver', help='chromedriver')
    a = ap.parse_args(argv)
    site = Path(a.site).resolve()
    for p, what in ((site/'index.html', 'the site'), (Path(a.chromium), 'chromium'), (Path(a.driver), 'chromedriver')):
        if not p.exists(): print(f'check_site: {what} not found at {p}', file=sys.stderr); return 1
    html = sorted(p.relative_to(site).as_posix() for p in site.rglob('*.html')
                  if not p.relative_to(site).parts[0].startswith('_'))
    srv, base = serve(site)
    t0, pages, problems = time.time(), {}, []
    with tempfile.TemporaryDirectory(prefix='nv-chromium-') as profile:
        d = browser(a.chromium, a.driver, profile)
        try:
            for rel in html:
                info, probs = check_page(d, base + rel)
                pages[rel] = info
                problems += [f'{rel}: {p}' for p in probs]
        finally: d.quit(); srv.shutdown()
    link_probs, n_int, n_ext = check_links(site, base, pages)
    problems += link_probs + _Handler.errors
    print(f'check_site: {len(pages)} pages, {n_int} internal links and resources checked, {n_ext} external links '
          f'not followed, {sum(i.get("plots", 0) for i in pages.values())} plotly figures, '
          f'{sum(i.get("typeset", 0) for i in pages.values())} formulas, in {time.time() - t0:.0f} s')
    for p in dict.fromkeys(problems): print('  BROKEN', p)
    print(f'check_site: {"FAILED, %d problems" % len(set(problems)) if problems else "all pages pass"}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
