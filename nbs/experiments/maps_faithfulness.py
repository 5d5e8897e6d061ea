"""Faithfulness of attribution maps on robustness cohorts: one trained run -> one CSV of per-subject scores.

    python nbs/experiments/maps_faithfulness.py RUN_DIR COHORT FAMILY OUT_CSV [--tuning] [--max_subjects N]

RUN_DIR is a run written by `neurovit_train`; COHORT names its cohort (e.g. robust_c_s101); FAMILY is 'vit' or 'cnn'.
With --tuning, the variants that the tuning cohort chooses between are scored as well. The table in
`42_interpret.score.ipynb` is computed from these CSVs.
"""
import argparse, sys, tempfile, time
from pathlib import Path
import numpy as np
import pandas as pd
import nibabel as nib
import torch
from neurovit_nb.core import atomic_path
from neurovit_nb.rundir import load_run
from neurovit_nb.interpret.attention import available_methods
from neurovit_nb.interpret.score import faithfulness_subjects, run_subjects, run_prepare

# variants compared on the tuning cohort only (label, method, options)
TUNING = {'vit': [('readout rollout', 'readout', {'propagate': True}), ('gradxinput positive', 'gradxinput', {'sign': 'positive'}),
                  ('ig positive', 'ig', {'sign': 'positive'}), ('occlusion w8', 'occlusion', {'window': 8})],
          'cnn': [('gradcam block4', 'gradcam', {'gradcam_layer': 'features.block4'}),
                  ('gradcam block3', 'gradcam', {'gradcam_layer': 'features.block3'})]}

def focal_masks(subjects, folder):
    "Each image's focal effect regions (medial temporal lobe and ventricles: bits 1 and 2 of its effects dseg) as NIfTI files."
    paths = []
    for m in subjects['mask']:
        dseg = nib.load(m.replace('_desc-ad_mask', '_desc-effects_dseg'))
        out = Path(folder)/Path(m).name.replace('_desc-ad_mask', '_desc-focal_mask')
        nib.save(nib.Nifti1Image(((np.asarray(dseg.dataobj).astype(int) & 3) > 0).astype(np.uint8), dseg.affine), out)
        paths.append(str(out))
    return subjects.assign(focal_mask=paths)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('run'); p.add_argument('cohort'); p.add_argument('family', choices=('vit', 'cnn')); p.add_argument('out')
    p.add_argument('--tuning', action='store_true'); p.add_argument('--max_subjects', type=int, default=None)
    p.add_argument('--methods', default=None, help='comma-separated labels to keep (default: all)')
    p.add_argument('--occlusion_window', type=int, default=16)
    p.add_argument('--n_randomized', type=int, default=3)
    p.add_argument('--append', action='store_true', help='replace these methods in an existing OUT_CSV (keeping its random maps)')
    a = p.parse_args(argv)
    run = load_run(a.run)
    methods = [m if m != 'occlusion' else ('occlusion', 'occlusion', {'window': a.occlusion_window}) for m in available_methods(run.model)]
    if a.tuning or a.family == 'cnn': methods += TUNING[a.family]  # Grad-CAM's layers: the last block is one cell at CPU sizes
    if a.methods: methods = [m for m in methods if (m if isinstance(m, str) else m[0]) in a.methods.split(',')]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        subjects = focal_masks(run_subjects(run, 'test', label=1, max_subjects=a.max_subjects), d)
        rows = faithfulness_subjects(run.model, subjects, run_prepare(run), methods, n_randomized=a.n_randomized)
    rows.insert(0, 'model', a.family); rows.insert(0, 'cohort', a.cohort)
    metrics = run.metrics() if callable(run.metrics) else run.metrics
    rows['test_auc'] = (metrics.get('test') or {}).get('auc', {}).get('value', float('nan'))
    if a.append and Path(a.out).exists():
        old = pd.read_csv(a.out)
        rows = pd.concat([old[~old.method.isin(set(rows.method) - {'random'})], rows[rows.method != 'random']], ignore_index=True)
    with atomic_path(a.out) as tmp: rows.round(5).to_csv(tmp, index=False)
    print(f'{a.out}: {rows.subject.nunique()} subjects, {rows.method.nunique()} methods in {time.perf_counter() - t0:.0f} s')

if __name__ == '__main__': main()
