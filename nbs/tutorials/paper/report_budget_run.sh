#!/bin/bash
# The pre-training budget curve on 2 CPU cores (about 2.5 hours), from the repository root, after report_run.sh (it
# reuses that script's cohorts, cache, synthetic pool, mae_synth encoder and the strategies grid's scratch cells).
# Every step resumes: rerun the script after an interruption.
set -e
R=runs/paper_report
P=nbs/tutorials/paper
export OMP_NUM_THREADS=1 NEUROVIT_NUM_THREADS=1
pretrain() {  # method epochs [extra options]: one encoder of the ladder on the synthetic pool
  local method=$1 epochs=$2 out=$R/pretrain/$1_e$2; shift 2
  [ -f $out/metrics.json ] && return 0
  neurovit_pretrain --data $R/pretrain/synth_600 --out $out --method $method --epochs $epochs \
    --warmup_epochs $(python3 -c "print($epochs / 10)") --val 0.1 --seed 0 --device cpu --quiet \
    $([ -d $out ] && echo --resume) "$@"
}
# two lanes of about the same length, one per core
( pretrain simclr 10 --lr 3e-4 --view_strength 0.5 && pretrain simclr 40 --lr 3e-4 --view_strength 0.5 && pretrain simclr 160 --lr 3e-4 --view_strength 0.5 ) &
( pretrain mae 10 --lr 1.5e-3 && pretrain supervised 10 --tasks sex,age --lr 1e-3 && \
  pretrain supervised 40 --tasks sex,age --lr 1e-3 && pretrain mae 160 --lr 1.5e-3 && \
  pretrain supervised 160 --tasks sex,age --lr 1e-3 ) &
wait
for m in mae simclr supervised; do
  [ -f $R/pretrain/${m}_e160/metrics.json ] || { echo "pre-training $m failed"; exit 1; }
done
# scratch and mae_e40 (= mae_synth) are the strategies grid's cells: the same config, split, subsets and seeds
for c in report_a report_b; do
  mkdir -p $R/budget/cells/$c
  for s in 0 1; do
    [ -d $R/budget/cells/$c/n0040-vit_default-scratch-s$s ] || \
      cp -r $R/strategies/cells/$c/n0040-vit_default-scratch-s$s $R/budget/cells/$c/
    [ -d $R/budget/cells/$c/n0040-vit_default-mae_e40-s$s ] || \
      cp -r $R/strategies/cells/$c/n0040-vit_default-mae_synth-s$s $R/budget/cells/$c/n0040-vit_default-mae_e40-s$s
  done
done
neurovit_sweep $P/report_budget_cpu.yaml --out $R/budget --n_parallel 2
for c in report_a report_b; do cmp $R/budget/cohorts/$c/splits.csv $R/strategies/cohorts/$c/splits.csv; done
# linear probes of the frozen encoders (and a random one) on each cell's 40 training subjects and the same test subjects
ENCODERS=random,$(ls -d $R/pretrain/*_e* $R/pretrain/mae_synth | paste -sd,)
for c in report_a report_b; do
  for s in 0 1; do
    f=$R/budget/probe_${c}_s$s.csv
    [ -f $f ] || neurovit_probe $R/data/$c --pretrained $ENCODERS --splits $R/budget/cohorts/$c --n_train 40 --seed $s \
      --cache_dir $R/cache --out $f
  done
done
