#!/bin/bash
# The pre-training budget curve on a GPU (not run here: no GPU was lent). From the repository root:
#   bash nbs/tutorials/paper/pretrain_budget_gpu.sh
# 1. Pools unlike the report cohorts: 4,000 robustness brains of the tuning preset (labels never read) and 4,000
#    template-warped synthetic brains, both at 4 mm (the CPU default encoder's input).
# 2. The default encoder (vit3d_tiny_p8 widened to 64 channels, 4 blocks) pre-trained by masked autoencoding, SimCLR
#    and supervised heads, each for 2,000, 8,000 and 32,000 optimizer steps.
# 3. The sweep pretrain_budget_gpu.yaml: each encoder fine-tuned with the settled default at 20, 40 and 80 training
#    subjects of both report cohorts, 5 seeds that draw subjects and initialisation, beside scratch; the notebook
#    tutorials/pretraining_budget reads its predictions with `budget_curve`, as it reads the CPU grid.
set -e
P=runs/pretrain_budget
ENC='{"embed_dim": 64, "depth": 4, "num_heads": 4, "pos_embed": "sincos", "class_token": false}'
[ -f $P/pool_c/participants.tsv ] || neurovit_robust $P/pool_c --preset robust_c --n_subjects 4000 --seed 6101
[ -f $P/pool_synth/participants.tsv ] || \
  neurovit_synth $P/pool_synth --n_subjects 4000 --seed 6102 --spacing 4 --sessions 1
for steps in 2000 8000 32000; do
  for method in mae simclr supervised; do
    data=$P/pool_c; [ $method = supervised ] && data=$P/pool_synth   # supervised heads need sex and age labels
    extra="--lr 1.5e-3"; [ $method = supervised ] && extra="--tasks sex,age --lr 1e-3"
    # SimCLR at 1.5e-3 collapsed on the CPU grid's pool (loss at chance from the first epoch): its CPU recipe
    [ $method = simclr ] && extra="--lr 3e-4 --view_strength 0.5"
    out=$P/${method}_${steps}
    [ -f $out/metrics.json ] && continue   # finished
    neurovit_pretrain --data $data --method $method $extra --model vit3d_tiny_p8 --model_overrides "$ENC" \
      --img_size 40,48,40 --spacing 4,4,4 --epochs 1 --min_steps $steps --bs 32 --warmup_epochs 0.05 --device cuda --quiet --out $out $([ -d $out ] && echo --resume)
  done
done
neurovit_sweep nbs/tutorials/paper/pretrain_budget_gpu.yaml --out $P/sweep --n_parallel 4
