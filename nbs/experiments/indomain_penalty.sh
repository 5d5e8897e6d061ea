#!/bin/bash
# The in-domain penalty in its original setting (see indomain_penalty.yaml), from the repository root; about 40
# minutes of one CPU core. Every step resumes.
set -e
P=runs/indomain
export OMP_NUM_THREADS=1 NEUROVIT_NUM_THREADS=1
# the cohorts of strategies_cpu.yaml and pretrain_cpu.sh: robust_b seed 0 (fine-tuning), robust_a/robust_b seed 1
for c in "robust_b 0" "robust_a 1" "robust_b 1"; do
  set -- $c
  [ -f $P/data/$1_s$2/participants.tsv ] || neurovit_robust $P/data/$1_s$2 --preset $1 --n_subjects 300 --seed $2 --n_workers 1
done
# the in-domain pool: both seed-1 cohorts in one manifest (labels never read), and the MAE recipe of pretrain_cpu.sh
[ -f $P/data/robust_s1.csv ] || python - <<'PY'
import pandas as pd
from neurovit_nb.data.cohort import load_cohort
P = 'runs/indomain/data'
parts = [load_cohort(f'{P}/{k}').assign(subject=lambda d, k=k: k + '_' + d.subject.astype(str))
         for k in ('robust_a_s1', 'robust_b_s1')]
pd.concat(parts)[['path', 'subject', 'session', 'sex', 'age', 'diagnosis']].to_csv(f'{P}/robust_s1.csv', index=False)
PY
[ -f $P/mae_indomain/metrics.json ] || neurovit_pretrain --data $P/data/robust_s1.csv --out $P/mae_indomain --method mae \
  --epochs 40 --warmup_epochs 4 --lr 1.5e-3 --val 0.1 --seed 0 --device cpu --quiet $([ -d $P/mae_indomain ] && echo --resume)
# the control: the same weights permuted within each tensor (same scale, no learned structure)
[ -f $P/mae_shuffled.pt ] || python - <<'PY'
import torch
from neurovit_nb.checkpoint import load_checkpoint
ck = load_checkpoint('runs/indomain/mae_indomain/checkpoints/encoder.pt')
g = torch.Generator().manual_seed(0)
shuffled = {k: v.flatten()[torch.randperm(v.numel(), generator=g)].view_as(v) if v.is_floating_point() else v
            for k, v in ck['model'].items()}
torch.save(dict(ck, model=shuffled, method='mae (weights permuted within each tensor)'), 'runs/indomain/mae_shuffled.pt')
PY
neurovit_sweep nbs/experiments/indomain_penalty.yaml --out $P/sweep --n_parallel 1
# the frozen encoders probed on the same split and 160 training subjects
[ -f $P/probe.csv ] || neurovit_probe $P/data/robust_b_s0 --pretrained random,$P/mae_indomain,$P/mae_shuffled.pt \
  --splits $P/sweep/cohorts/robust_b --n_train 160 --cache_dir $P/cache --out $P/probe.csv
