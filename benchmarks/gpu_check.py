#!/usr/bin/env python
"""One prepared GPU check: every GPU figure of the package, in order of importance, written to OUT as it goes.

    bash benchmarks/gpu_check.sh OUT            # on a GPU machine (installs wheels from .whl/ first, if present)
    python benchmarks/gpu_check.py OUT --smoke  # tiny shapes on the CPU: checks the script end to end

Steps (each in its own process with a time limit, so one failure or hang never loses the others):
  1. models_speed  ViT-B/16 at 96^3 (batch 128) and 160x192x160 (batch 8): ours fp32 / bf16 / bf16+compile against
                   MONAI's ViT fp32, TF32 and flash+bf16, peak memory (`benchmarks/models_speed.py`)
  2. cuda_cells    `nbdev_test --flags cuda` on the notebooks that have `#| cuda` cells
  3. input_pipeline one real training epoch from the cache against model-only throughput (`benchmarks/input_pipeline.py`)
  4. pretrain      MAE step against the supervised step of the same encoder, if `neurovit_nb.models.mae` exists

OUT receives at most eight small files: summary.json and summary.md (rewritten after every step, atomically),
and each step's own JSON. The whole check is sized to finish in about 8 minutes on one H100/H200-class GPU.
"""
from __future__ import annotations
import argparse, importlib.util, json, os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# step -> (time limit in s on a GPU, in smoke mode)
LIMITS = {'models_speed': (300, 240), 'cuda_cells': (150, 120), 'input_pipeline': (150, 180), 'pretrain': (60, 120)}


def _tail(text:str, n:int=1500) -> str: return text[-n:]


def run_step(name:str, cmd:list, limit:int, env:dict) -> dict:
    "Run one step as a subprocess with a time limit; return its status, time and the tail of its output."
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=limit)
        status = 'ok' if p.returncode == 0 else f'failed (exit {p.returncode})'
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        status, out = f'timed out after {limit} s', ((e.stdout or b'').decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or ''))
    return {'step': name, 'status': status, 'seconds': round(time.perf_counter() - t0, 1), 'command': ' '.join(map(str, cmd)), 'output_tail': _tail(out)}


def cuda_notebooks() -> list[str]:
    "Notebooks with at least one `#| cuda` cell."
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT/'nbs').rglob('*.ipynb')
                  if re.search(r'#\s*\|\s*cuda', p.read_text()) and '.ipynb_checkpoints' not in p.parts)


def write_summary(out:Path, info:dict, steps:list):
    "summary.json and summary.md, written atomically after each step."
    from neurovit_nb.core import save_json, atomic_write
    save_json({'machine': info, 'steps': steps}, out/'summary.json')
    lines = [f"# GPU check: {info.get('gpu') or 'no GPU (smoke)'}", '', f"{info['date']}, torch {info['torch']}, {info['cpu_cores']} CPU cores", '',
             '| step | status | seconds |', '|---|---|---|'] + [f"| {s['step']} | {s['status']} | {s['seconds']} |" for s in steps]
    for s in steps:
        if s.get('result_md'): lines += ['', f"## {s['step']}", '', s['result_md']]
    with atomic_write(out/'summary.md') as f: f.write('\n'.join(lines) + '\n')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('out', help='folder for the results (created)')
    ap.add_argument('--smoke', action='store_true', help='tiny shapes on the CPU: checks the script itself in a minute or two')
    ap.add_argument('--steps', default=','.join(LIMITS), help=f'comma-separated subset of {list(LIMITS)}')
    a = ap.parse_args(argv)
    out = Path(a.out).absolute(); out.mkdir(parents=True, exist_ok=True)
    wanted = [s.strip() for s in a.steps.split(',') if s.strip()]
    unknown = [s for s in wanted if s not in LIMITS]
    if unknown: sys.exit(f'--steps: unknown {unknown}; choose from {list(LIMITS)}')
    import torch
    gpu = torch.cuda.is_available() and not a.smoke
    info = {'gpu': torch.cuda.get_device_name(0) if gpu else None, 'torch': torch.__version__, 'cuda': torch.version.cuda,
            'cpu_cores': os.cpu_count(), 'smoke': a.smoke, 'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
    env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get('PYTHONPATH')])))
    py, steps = sys.executable, []
    dev = ['--device', 'cuda'] if gpu else ['--device', 'cpu']
    for name in wanted:
        limit = LIMITS[name][1 if a.smoke else 0]
        res_json = out/f'{name}.json'
        if name == 'models_speed':
            cmd = [py, 'benchmarks/models_speed.py', *dev, '--out', res_json] + (['--smoke', '--steps', '1', '--warmup', '1', '--no_compile'] if a.smoke else [])
        elif name == 'cuda_cells':
            nbs = cuda_notebooks()
            if not gpu:  # the cells need a GPU; the smoke check only lists them
                steps.append({'step': name, 'status': 'skipped (no GPU)', 'seconds': 0, 'notebooks': nbs}); write_summary(out, info, steps); continue
            nbdev_test = Path(py).parent/'nbdev_test'
            cmd = [str(nbdev_test) if nbdev_test.exists() else 'nbdev_test', '--flags', 'cuda', '--do_print', '--timing', '--n_workers', '1', '--path', ' '.join(nbs)]
            steps.append(_cuda_cells(nbs, cmd[:-2], limit, env)); write_summary(out, info, steps); continue
        elif name == 'input_pipeline':
            cmd = [py, 'benchmarks/input_pipeline.py', *dev, '--out', out] + (['--smoke'] if a.smoke else [])
        elif name == 'pretrain':
            if importlib.util.find_spec('neurovit_nb.models.mae') is None or not (ROOT/'benchmarks'/'pretrain_speed.py').exists():
                steps.append({'step': name, 'status': 'skipped (no MAE module or benchmark yet)', 'seconds': 0}); write_summary(out, info, steps); continue
            cmd = [py, 'benchmarks/pretrain_speed.py', *dev, '--out', res_json] + (['--smoke'] if a.smoke else [])
        print(f'[{time.strftime("%H:%M:%S")}] {name}: {" ".join(map(str, cmd))}', flush=True)
        r = run_step(name, cmd, limit, env)
        md = out/f'{name}.md'
        if md.exists(): r['result_md'] = md.read_text()
        elif res_json.exists(): r['result'] = json.loads(res_json.read_text()).get('summary')
        steps.append(r); write_summary(out, info, steps)
        print(f'  {r["status"]} in {r["seconds"]} s', flush=True)
    print((out/'summary.md').read_text())
    return 0 if all(s['status'].startswith(('ok', 'skipped')) for s in steps) else 1


def _cuda_cells(nbs:list, cmd:list, limit:int, env:dict) -> dict:
    "Run each notebook's cuda cells on its own, so one failing notebook does not hide the others."
    per, t0 = [], time.perf_counter()
    for nb in nbs:
        left = max(10, limit - (time.perf_counter() - t0))
        r = run_step(nb, cmd + ['--path', nb], int(left), env)
        per.append({k: r[k] for k in ('step', 'status', 'seconds', 'output_tail')})
    ok = all(p['status'] == 'ok' for p in per)
    return {'step': 'cuda_cells', 'status': 'ok' if ok else 'failed', 'seconds': round(time.perf_counter() - t0, 1), 'notebooks': per,
            'result_md': '\n'.join(f"- {p['step']}: {p['status']} ({p['seconds']} s)" for p in per)}


if __name__ == '__main__': sys.exit(main())
