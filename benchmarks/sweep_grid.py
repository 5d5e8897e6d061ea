"""A 24-cell CPU scaling grid: 4 training-set sizes x 2 models x 3 seeds on a synthetic AD cohort, run by the local executor.

    python benchmarks/sweep_grid.py --out /tmp/sweep_grid            # then read benchmarks/sweep_grid.md
    python benchmarks/sweep_grid.py --out /tmp/sweep_grid --n_parallel 4 --epochs 30

Both models start from the CPU defaults of `neurovit_train` (`default_configs('cpu')`: vit3d_tiny_p8 widened to
embed_dim 64, depth 4, 40x48x40 voxels at 4 mm): `default` is that model, `narrow` the same with embed_dim 32 and
depth 2. Writes the sweep folder (results.csv, report.html) and, here, `sweep_grid.md` with the wall time, the
per-cell training times, the mean AUC per cell group and the fitted curves. Rerunning resumes the sweep.
"""
import argparse, json, logging, platform, resource, time
from pathlib import Path

import torch
from neurovit_nb.scaling.sweep import run_sweep, sweep_status
from neurovit_nb.scaling.report import summarize_results
from neurovit_nb.scaling.fit import cell_predictions, fit_curves, fits_table, extrapolation_check
from neurovit_nb.train.runs import DEFAULTS


def grid_spec(n_subjects:int, sizes:list, epochs:int, seeds:list) -> dict:
    "The benchmark's spec: the CPU default model and a narrower one, on one synthetic cohort."
    d = DEFAULTS['cpu']
    default = dict(model=d['run']['model'], model_overrides=dict(d['run']['model_overrides']))
    narrow = dict(model=d['run']['model'], model_overrides={**d['run']['model_overrides'], 'embed_dim': 32, 'depth': 2, 'num_heads': 2})
    return dict(name='sweep_grid',
                cohorts={'synth': {'synthetic': dict(n_subjects=n_subjects, seed=0, spacing=4.0, max_sessions=1, p_diagnosis=[0.5, 0.0, 0.5])}},
                n_train=sizes, models={'narrow': narrow, 'default': default}, strategies={'scratch': {}}, seeds=seeds,
                options=dict(task='ad', epochs=epochs, val=0.15, test=0.3, n_boot=500), device='cpu')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='/tmp/sweep_grid', help='sweep folder (resumed if it exists)')
    ap.add_argument('--n_subjects', type=int, default=200, help='synthetic cohort size (55%% of it is the training pool)')
    ap.add_argument('--sizes', default='12,24,48,96', help='training-set sizes (subjects)')
    ap.add_argument('--epochs', type=int, default=12, help='epochs per cell')
    ap.add_argument('--seeds', default='0,1,2', help='training seeds')
    ap.add_argument('--n_parallel', type=int, default=2, help='cells at once (CPU threads are divided between them)')
    ap.add_argument('--md', default=str(Path(__file__).with_suffix('.md')), help='where to write the summary')
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    for n in ('neurovit_nb.train', 'neurovit_nb.train.loop', 'neurovit_nb.data.loaders', 'neurovit_nb.data.cohort', 'neurovit_nb.data.preprocess'):
        logging.getLogger(n).setLevel(logging.WARNING)
    spec = grid_spec(a.n_subjects, [int(s) for s in a.sizes.split(',')], a.epochs, [int(s) for s in a.seeds.split(',')])
    t0 = time.time()
    res = run_sweep(spec, a.out, n_parallel=a.n_parallel)
    wall = time.time() - t0
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = Path(a.out)
    prep = json.loads((out/'cohorts'/'synth'/'prep.json').read_text())
    lines = [f'# Scaling sweep: {len(res)} cells on CPU', '',
             f'`python benchmarks/sweep_grid.py --out {a.out} --n_subjects {a.n_subjects} --sizes {a.sizes} --epochs {a.epochs} --seeds {a.seeds} --n_parallel {a.n_parallel}`', '',
             f'- machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads in the parent, {a.n_parallel} cells at once; torch {torch.__version__}',
             f'- wall time of this call: {wall / 60:.1f} min (cells run: CPU time of worker processes {(ch.ru_utime + ch.ru_stime) / 60:.1f} min); status: {dict(sweep_status(out).status.value_counts())}',
             f'- preprocessing (once, before the cells): ' + '; '.join(f"{v['built']} built, {v['cached']} cached in {v['seconds']} s" for v in prep.values()),
             f'- training time per cell (s): median {res.time_s.median():.0f}, max {res.time_s.max():.0f}', '',
             '## Test AUC per size (mean over seeds)', '', '```', summarize_results(res).round(3).to_string(index=False), '```', '']
    done = res[res.status == 'done']
    if done.n_train.nunique() >= 3:
        preds = cell_predictions(done, root=out)
        lines += ['## Fits of 1 - AUC = a n^-b + c (95% bootstrap over seeds and test subjects)', '',
                  '```', fits_table(fit_curves(preds, n_boot=200)).round(3).to_string(index=False), '```', '',
                  '## Extrapolation check (fit without the largest size)', '', '```', extrapolation_check(preds).round(3).to_string(index=False), '```', '']
    lines += [f'Report: `{out / "report.html"}`', '']
    Path(a.md).write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
