#!/usr/bin/env python
"""Bootstrap speed: `neurovit_nb.metrics.bootstrap_metrics` (all resamples at once, as weighted metrics in NumPy)
against the plain approach of calling scikit-learn's six metrics once per resample, on the same subject-level resamples.

    OMP_NUM_THREADS=1 python benchmarks/metrics_bootstrap.py                 # 100, 300 and 1000 subjects, 2 sessions each
    python benchmarks/metrics_bootstrap.py --subjects 300 --out benchmarks/metrics_bootstrap.md

The scikit-learn loop runs `--loop_boot` resamples and is scaled to `--n_boot`; both give the same intervals up to
resampling noise (the notebook tests that the weighted metrics equal scikit-learn's). Prints a markdown table;
`--out FILE` also writes it (atomically) with the machine.
"""
from __future__ import annotations
import argparse, os, platform, time
import numpy as np
from sklearn import metrics as skm
from neurovit_nb.core import atomic_write
from neurovit_nb.metrics import bootstrap_metrics


def scores(n_subjects: int, sessions: int, seed: int = 0):
    "Labels, probabilities and subject ids of a noisy classifier, `sessions` rows per subject."
    rng = np.random.default_rng(seed)
    y = np.repeat(rng.integers(0, 2, n_subjects), sessions)
    p = 1 / (1 + np.exp(-(1.5 * (y - 0.5) + rng.normal(0, 1, len(y)))))
    return y, p, np.repeat(np.arange(n_subjects), sessions)


def sklearn_loop(y, p, groups, n_boot: int, seed: int = 0) -> float:
    "Seconds for `n_boot` subject-level resamples computed with scikit-learn one at a time."
    rng = np.random.default_rng(seed)
    subjects = np.unique(groups)
    rows = {s: np.flatnonzero(groups == s) for s in subjects}
    t0 = time.perf_counter()
    for _ in range(n_boot):
        idx = np.concatenate([rows[s] for s in rng.choice(subjects, len(subjects))])
        yy, pp = y[idx], p[idx]
        if len(np.unique(yy)) < 2: continue
        pred = pp >= 0.5
        skm.roc_auc_score(yy, pp); skm.balanced_accuracy_score(yy, pred)
        skm.recall_score(yy, pred); skm.recall_score(yy, pred, pos_label=0)
        skm.f1_score(yy, pred); skm.brier_score_loss(yy, pp)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--subjects', type=int, nargs='+', default=[100, 300, 1000])
    ap.add_argument('--sessions', type=int, default=2)
    ap.add_argument('--n_boot', type=int, default=1000)
    ap.add_argument('--loop_boot', type=int, default=100, help='resamples actually run by the scikit-learn loop')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    lines = [f'| subjects | rows | bootstrap_metrics (s) | scikit-learn loop (s, scaled to {a.n_boot}) | speed-up |',
             '|---:|---:|---:|---:|---:|']
    for n in a.subjects:
        y, p, g = scores(n, a.sessions)
        bootstrap_metrics(y, p, groups=g, n_boot=10)  # warm-up
        t0 = time.perf_counter(); bootstrap_metrics(y, p, groups=g, n_boot=a.n_boot); vec = time.perf_counter() - t0
        loop = sklearn_loop(y, p, g, a.loop_boot) * a.n_boot / a.loop_boot
        lines.append(f'| {n} | {len(y)} | {vec:.3f} | {loop:.2f} | {loop / vec:.0f}x |')
    machine = f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")}'
    text = '\n'.join(lines) + f'\n\n{a.n_boot} subject-level resamples, all six metrics. Machine: {machine}.\n'
    print(text)
    if a.out:
        with atomic_write(a.out) as f: f.write('# Bootstrap confidence intervals: speed\n\n' + text)


if __name__ == '__main__': main()
