#!/bin/bash
# Pre-training data and encoders of strategies_cpu.yaml (run from the repository root; about 5 minutes on 2 CPU cores).
# Unlabeled scans of other subjects made like the report cohorts (seed 1; the report cohorts use seed 0), and
# template-warped synthetic brains; the same masked-autoencoder recipe on each.
set -e
P=runs/paper_pretrain
neurovit_robust $P/data/robust_a_s1 --preset robust_a --n_subjects 300 --seed 1
neurovit_robust $P/data/robust_b_s1 --preset robust_b --n_subjects 300 --seed 1
neurovit_synth $P/data/synth_600 --n_subjects 600 --seed 2002 --spacing 4 --sessions 1
python -c "
from neurovit_nb.data.cohort import load_cohort
import pandas as pd
parts = [load_cohort('$P/data/' + k).assign(subject=lambda d, k=k: k + '_' + d.subject.astype(str)) for k in ('robust_a_s1', 'robust_b_s1')]
pd.concat(parts)[['path', 'subject', 'session', 'sex', 'age', 'diagnosis']].to_csv('$P/data/robust_s1.csv', index=False)"
MAE="--method mae --epochs 40 --warmup_epochs 4 --lr 1.5e-3 --val 0.1 --seed 0 --device cpu --quiet"
neurovit_pretrain --data $P/data/robust_s1.csv --out $P/mae_indomain --finetune_splits runs/paper_scaling/cohorts/robust_a/splits.csv $MAE
neurovit_pretrain --data $P/data/synth_600 --out $P/mae_synth $MAE

# Pre-training on generated brains (the paper's diffusion-generated pre-training data): a conditional latent diffusion
# generator trained on the same unlabeled pool (cpu preset, 4 mm), 600 brains sampled from it with the pool's label mix,
# and the same masked-autoencoder recipe on them (the strategy `mae_generated` of strategies_cpu.yaml).
neurovit_generator --data $P/data/robust_s1.csv --out $P/generator --preset cpu --quiet
neurovit_generate $P/generator $P/data/generated_600 --n 600 --seed 0 --quiet
neurovit_pretrain --data $P/data/generated_600 --out $P/mae_generated $MAE
