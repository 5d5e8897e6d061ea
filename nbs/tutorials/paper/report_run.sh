#!/bin/bash
# The report grids of the paper reproduction, in order of importance, from the repository root (about 2 hours on 2
# CPU cores). Every step resumes: rerun the script after an interruption. The cohorts are the registry's report_a and
# report_b (nbs/experiments/cohort_registry.csv), never read by any choice of the package's defaults.
set -e
R=runs/paper_report
P=nbs/tutorials/paper
[ -f $R/data/report_a/participants.tsv ] || neurovit_robust $R/data/report_a --preset robust_a --n_subjects 800 --seed 31001
[ -f $R/data/report_b/participants.tsv ] || neurovit_robust $R/data/report_b --preset robust_b --n_subjects 800 --seed 31002
neurovit_sweep $P/report_scaling_cpu.yaml --out $R/scaling --n_parallel 2
neurovit_sweep $P/report_transfer_cpu.yaml --out $R/transfer --n_parallel 2
# the two-cohort test: each cohort's models at 360 training subjects on the other cohort's test subjects
python - <<'PY'
from neurovit_nb.data.cohort import load_splits
R = 'runs/paper_report'
for c, sweep in (('report_a', 'scaling'), ('report_b', 'transfer')):
    s = load_splits(f'{R}/{sweep}/cohorts/{c}/splits.csv')
    s[s.split == 'test'].drop(columns=['split']).to_csv(f'{R}/data/{c}_test.csv', index=False)
PY
for s in 0 1; do
  for pair in "scaling/cells/report_a report_b" "transfer/cells/report_b report_a"; do
    set -- $pair
    out=$R/two_cohort/$(basename $1)_on_$2_s$s
    [ -f $out/metrics.json ] || neurovit_eval $R/$1/n0360-vit_default-scratch-s$s $R/data/$2_test.csv --name $2 \
      --out $out --cache_dir $R/cache --device cpu --quiet
  done
done
neurovit_sweep $P/report_sfcn_cpu.yaml --out $R/sfcn --n_parallel 2
# report_a's scratch cells at 40 are the scaling grid's: the same config, split, subsets and seeds
mkdir -p $R/strategies/cells/report_a
for s in 0 1; do
  [ -d $R/strategies/cells/report_a/n0040-vit_default-scratch-s$s ] || \
    cp -r $R/scaling/cells/report_a/n0040-vit_default-scratch-s$s $R/strategies/cells/report_a/
done
neurovit_sweep $P/report_strategies_cpu.yaml --out $R/strategies --n_parallel 2
cmp $R/strategies/cohorts/report_a/splits.csv $R/scaling/cohorts/report_a/splits.csv
neurovit_sweep $P/report_sex_cpu.yaml --out $R/sex --n_parallel 2
# mae_synth: a masked autoencoder on 600 template-warped synthetic brains at 4 mm, 40 epochs, then 4 more cells
[ -f $R/pretrain/synth_600/participants.tsv ] || neurovit_synth $R/pretrain/synth_600 --n_subjects 600 --seed 2002 --spacing 4 --sessions 1
[ -d $R/pretrain/mae_synth ] && AGAIN=--resume || AGAIN=
neurovit_pretrain --data $R/pretrain/synth_600 --out $R/pretrain/mae_synth --method mae --epochs 40 --warmup_epochs 4 \
  --lr 1.5e-3 --val 0.1 --seed 0 --device cpu --quiet $AGAIN
neurovit_sweep $P/report_strategies_mae_cpu.yaml --out $R/strategies --n_parallel 2
