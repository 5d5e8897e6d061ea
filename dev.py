#!/usr/bin/env python3
"""neurovit_nb developer entry point: set-up, the main job, tests, README and docs.

    python3 dev.py main     # set up .venv once, then run the main job on the synthetic cohort
    python3 dev.py test     # set up .venv once, then run the notebook tests (prints `N passed, M failed`)
    python3 dev.py verify   # CI's checks: notebooks clean, library and README in sync with the notebooks
    python3 dev.py readme   # regenerate README.md from nbs/index.ipynb
    python3 dev.py outputs nbs/X.ipynb ...  # run notebooks as the tests do and keep their (small) outputs for the docs
    python3 dev.py docs     # build the docs site into _site/ (Sphinx, offline) and check it in headless Chromium
    python3 dev.py lab      # open JupyterLab on nbs/

Only the standard library is used here, so it runs on a machine with nothing but Python >= 3.10.
"""
import hashlib, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT/'.venv'
BIN = VENV/('Scripts' if os.name == 'nt' else 'bin')
PY = BIN/('python.exe' if os.name == 'nt' else 'python')
STAMP = VENV/'.neurovit-setup'
# CPU machines get the CPU wheel this version names (the registry here serves it); machines with an
# NVIDIA driver get the default CUDA build of the supported range. An existing torch is never replaced.
CPU_TORCH = os.environ.get('NEUROVIT_TORCH', 'torch==2.13.0')
GPU_TORCH = os.environ.get('NEUROVIT_TORCH', 'torch>=2.3,<3')


def sh(*args, env=None, check=True, **kw):
    "Run a command from the repo root, echoing it."
    print('+', ' '.join(map(str, args)), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=check, **kw)


def _setup_key():
    h = hashlib.sha256()
    for f in ('settings.ini', 'setup.py', 'dev.py'): h.update((ROOT/f).read_bytes())
    return h.hexdigest()


def _has(module):
    return subprocess.run([str(PY), '-c', f'import {module}'], capture_output=True).returncode == 0


def setup():
    "Create `.venv` and install the package with its dev tools; a no-op when already done."
    if not PY.exists():
        sh(sys.executable, '-m', 'venv', VENV)
        sh(PY, '-m', 'pip', 'install', '-q', '--upgrade', 'pip')
    if STAMP.exists() and STAMP.read_text() == _setup_key() and _has('neurovit_nb'): return
    t0 = time.time()
    if not _has('torch'):
        spec = GPU_TORCH if shutil.which('nvidia-smi') else CPU_TORCH
        sh(PY, '-m', 'pip', 'install', '-q', spec)
    sh(PY, '-m', 'pip', 'install', '-q', '-e', '.[dev]')
    if (ROOT/'.git').exists():  # nbdev's merge driver, named in .gitattributes, resolves notebook conflicts
        sh('git', 'config', 'merge.nbdev-merge.name', 'resolve conflicts with nbdev_fix', check=False)
        sh('git', 'config', 'merge.nbdev-merge.driver', f'{BIN/"nbdev_merge"} %O %A %B %P', check=False)
    STAMP.write_text(_setup_key())
    print(f'set-up done in {time.time()-t0:.0f} s', flush=True)


def venv_env(**extra):
    "Environment with the venv first on PATH."
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(VENV))
    env.update(extra)
    return env


def main_job(args):
    "The main job: synthetic cohort -> preprocess -> train -> evaluate -> report (resumes if re-run)."
    setup()
    sh(BIN/'neurovit_demo', *args, env=venv_env())


def test(args):
    "Run `nbdev_test` and end with a line `N passed, M failed` counting the notebooks executed."
    setup()
    # Parallel notebooks on few cores: one BLAS/torch thread per worker, so workers don't fight.
    env = venv_env(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', NEUROVIT_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    cmd = [BIN/'nbdev_test', '--do_print', '--timing', *args]
    print('+', ' '.join(map(str, cmd)), flush=True)
    p = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    started, failed, in_failed = 0, [], False
    for line in p.stdout:
        sys.stdout.write(line); sys.stdout.flush()
        if line.startswith('Starting '): started += 1
        if 'Tests Failed On The Following Notebooks' in line: in_failed = True; continue
        if in_failed and line.startswith('\t'): failed.append(line.strip())
    rc = p.wait()
    if rc != 0 and not failed: failed = ['(nbdev_test exited with %d)' % rc]
    print(f'{started - len(failed) if started >= len(failed) else 0} passed, {len(failed)} failed', flush=True)
    return 0 if rc == 0 else 1


def readme():
    "Regenerate README.md from nbs/index.ipynb (nbconvert to markdown; no Quarto needed)."
    setup()
    sh(PY, ROOT/'tools'/'make_readme.py', env=venv_env())


def outputs(args):
    "Run the given notebooks as `nbdev_test` does and keep their outputs (cleaned, size-checked) for the docs pages."
    setup()
    if not args: sys.exit('outputs: name the notebooks, e.g. `python3 dev.py outputs nbs/23_train.loop.ipynb`')
    env = venv_env(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', NEUROVIT_NUM_THREADS='1')
    return sh(PY, ROOT/'tools'/'run_outputs.py', *args, env=env, check=False).returncode


def _dirty():
    return subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()


def verify(args):
    "CI: fail if nbdev_clean, nbdev_export or the README generator would change tracked files."
    setup()
    env = venv_env()
    if _dirty(): sys.exit('the working tree has uncommitted changes before the checks:\n' + _dirty())
    for step in (['nbdev_clean'], ['nbdev_export'], ['python', 'tools/make_readme.py']):
        sh(BIN/step[0], *step[1:], env=env)
        if _dirty():
            subprocess.run(['git', 'diff', '--stat'], cwd=ROOT)
            sys.exit(f'`{" ".join(step)}` changed tracked files: run it, check the diff and commit.')
    # lines of at most 120 characters in the library notebooks (settings in pyproject.toml)
    if sh(BIN/'ruff', 'check', '--output-format', 'concise', env=env, check=False).returncode:
        sys.exit('lines over 120 characters in the notebooks above: wrap them (a docstring stays one line).')
    print('notebooks clean; library and README in sync; lines <= 120 characters', flush=True)


DOCS_PKGS = ['sphinx>=8', 'myst-nb>=1.1', 'pydata-sphinx-theme>=0.16', 'selenium>=4.20']
MATHJAX = VENV/'share'/'mathjax'/'tex-svg-full.js'


def docs(args):
    "Build the docs site into _site/ with Sphinx (offline), then open every page in headless Chromium."
    unknown = [a for a in args if a not in ('--clean', '--no-check', '--linkcheck')]
    if unknown: sys.exit(f'docs: unknown option {unknown[0]} (options: --clean, --no-check, --linkcheck)')
    setup()
    if not all(_has(m) for m in ('sphinx', 'myst_nb', 'pydata_sphinx_theme', 'selenium')):
        sh(PY, '-m', 'pip', 'install', '-q', *DOCS_PKGS)
    if not MATHJAX.exists():  # MathJax 3 from the npm registry, kept in the venv and served from the site itself
        import tarfile, tempfile
        with tempfile.TemporaryDirectory() as tmp:
            sh('npm', 'pack', '--silent', 'mathjax@3.2.2', '--pack-destination', tmp)
            with tarfile.open(next(Path(tmp).glob('mathjax-*.tgz'))) as t:
                data = t.extractfile('package/es5/tex-svg-full.js').read()
        MATHJAX.parent.mkdir(parents=True, exist_ok=True)
        MATHJAX.write_bytes(data)
    # Sphinx works in _proc/ (sources generated from nbs/, doctrees, HTML: kept for incremental rebuilds, and
    # myst-nb writes beside its output folder); the finished site is then copied to _site/.
    work, site = ROOT/'_proc', ROOT/'_site'
    if '--clean' in args:
        for d in ('sphinx', 'sphinx_doctrees', 'html', 'jupyter_execute'): shutil.rmtree(work/d, ignore_errors=True)
    (work/'sphinx').mkdir(parents=True, exist_ok=True)
    env = venv_env(NEUROVIT_MATHJAX=str(MATHJAX), PYTHONWARNINGS='ignore')
    t0 = time.time()
    rc = sh(PY, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-j', 'auto', '-c', ROOT/'docs',
            '-d', work/'sphinx_doctrees', work/'sphinx', work/'html', env=env, check=False).returncode
    print(f'sphinx-build: {"ok" if rc == 0 else "FAILED (warnings are errors)"} in {time.time()-t0:.0f} s', flush=True)
    if rc: return rc
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(work/'html', site, ignore=shutil.ignore_patterns('.doctrees'))
    if '--linkcheck' in args:  # external links too: only where the network is reachable
        rc = sh(PY, '-m', 'sphinx', '-b', 'linkcheck', '-q', '-c', ROOT/'docs', '-d', work/'sphinx_doctrees',
                work/'sphinx', work/'linkcheck', env=env, check=False).returncode
    if '--no-check' in args: return rc
    return sh(PY, ROOT/'tools'/'check_site.py', site, env=env, check=False).returncode or rc


def lab(args):
    "Open JupyterLab on the notebooks."
    setup()
    root = ['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []  # containers often run as root
    sh(BIN/'jupyter', 'lab', '--notebook-dir', ROOT/'nbs', *root, *args, env=venv_env())


if __name__ == '__main__':
    cmds = dict(main=main_job, test=test, verify=verify, docs=docs, lab=lab, outputs=outputs,
                readme=lambda a: readme(), setup=lambda a: setup())
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or sys.argv[1] in ('-h', '--help'):
        print(__doc__); sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ('-h', '--help') else 2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]) or 0)
