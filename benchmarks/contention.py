"""Training steps on a shared CPU: the default training step alone, and with a second training process beside it.

    python benchmarks/contention.py            # writes benchmarks/contention.md

Each configuration starts one or two child processes that run the CPU default's training step (vit3d_tiny_p8 at 64
channels and 4 blocks, batch 8 of 40x48x40 voxels, AdamW) for a fixed time and report their median step time. The
thread settings compared are torch's default (one thread per core in every process), one thread per process, and the
default with OpenMP's passive waiting (`OMP_WAIT_POLICY=PASSIVE`: idle threads sleep instead of spinning).
"""
import argparse, json, os, platform, statistics, subprocess, sys, time
from pathlib import Path

CHILD = r'''
import json, sys, time, torch
from neurovit_nb.core import set_threads
from neurovit_nb.models.registry import create_model
from neurovit_nb.train.runs import DEFAULTS
set_threads()
run = DEFAULTS['cpu']['run']
m = create_model(run['model'], img_size=run['img_size'], num_classes=2, **run['model_overrides'])
opt = torch.optim.AdamW(m.parameters(), 3e-4)
x, y = torch.randn(run['bs'], 1, *run['img_size']), torch.randint(0, 2, (run['bs'],))
times, t_end = [], time.time() + float(sys.argv[1])
while time.time() < t_end or len(times) < 3:
    t = time.time(); opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
    times.append(time.time() - t)
print(json.dumps(dict(threads=torch.get_num_threads(), steps=len(times), times=times[1:])))
'''

CONFIGS = {  # name: (processes, extra environment)
    'alone, default threads': (1, {}),
    'alone, OMP_WAIT_POLICY=PASSIVE': (1, {'OMP_WAIT_POLICY': 'PASSIVE'}),
    'alone, GOMP_SPINCOUNT=10000': (1, {'GOMP_SPINCOUNT': '10000'}),
    'alone, 1 thread': (1, {'NEUROVIT_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}),
    'two processes, default threads': (2, {}),
    'two processes, OMP_WAIT_POLICY=PASSIVE': (2, {'OMP_WAIT_POLICY': 'PASSIVE'}),
    'two processes, GOMP_SPINCOUNT=10000': (2, {'GOMP_SPINCOUNT': '10000'}),
    'two processes, 1 thread each': (2, {'NEUROVIT_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}),
}


def measure(n_proc:int, env:dict, seconds:float) -> list:
    "Median step time (s) of each of `n_proc` children run at the same time."
    drop = ('OMP_NUM_THREADS', 'NEUROVIT_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')
    # the child imports torch before neurovit_nb, so only what a configuration sets applies
    base = {k: v for k, v in os.environ.items() if k not in drop}
    procs = [subprocess.Popen([sys.executable, '-c', CHILD, str(seconds)], env=base | env, stdout=subprocess.PIPE, text=True)
             for _ in range(n_proc)]
    out = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return [dict(threads=o['threads'], steps=o['steps'], median_s=statistics.median(o['times'])) for o in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=25, help='how long each configuration runs')
    ap.add_argument('--background', type=int, default=0,
                    help='busy processes started beside every configuration, as other users\' jobs on a shared machine')
    ap.add_argument('--rounds', type=int, default=2, help='every configuration runs this often (orders alternate)')
    ap.add_argument('--md', default=str(Path(__file__).with_suffix('.md')))
    a = ap.parse_args()
    busy = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(a.background)]
    res, load0 = {k: [] for k in CONFIGS}, os.getloadavg()
    for i in range(a.rounds):  # alternate the order, so slow phases of other work do not land on one configuration
        for name in (list(CONFIGS) if i % 2 == 0 else list(CONFIGS)[::-1]):
            r = measure(*CONFIGS[name], a.seconds); res[name].append(r); print(name, r, flush=True)
    # per configuration and process: the median over rounds of the per-round median step
    rows = [(k, [dict(threads=r[0][j]['threads'], median_s=statistics.median(x[j]['median_s'] for x in r))
                 for j in range(len(r[0]))]) for k, r in res.items()]
    alone = rows[0][1][0]['median_s']
    load1 = os.getloadavg()
    for b in busy: b.kill()
    lines = [f'## {a.background} busy background process(es)', '',
             f'`python benchmarks/contention.py --seconds {a.seconds:g} --background {a.background}`', '',
             f'- machine: {platform.machine()}, {os.cpu_count()} cores; load average before the run '
             f'{load0[0]:.1f}, after {load1[0]:.1f}; {a.rounds} rounds in alternating order, medians over rounds', '',
             '| configuration | torch threads per process | median step (s) per process | vs. alone, default threads |',
             '|---|---|---|---|']
    for name, r in rows:
        steps = ', '.join(f"{x['median_s']:.3f}" for x in r)
        lines.append(f"| {name} | {r[0]['threads']} | {steps} | {max(x['median_s'] for x in r) / alone:.1f}x |")
    with open(a.md, 'a') as f: f.write('\n'.join(lines) + '\n\n')


if __name__ == '__main__': main()
