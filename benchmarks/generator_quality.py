#!/usr/bin/env python
"""Generator quality at the `cpu` preset: conditioning, train-on-synthetic/test-on-real, Fréchet distance, diversity, memorisation.

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/generator_quality.py            # the real run
    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/generator_quality.py --smoke    # tiny preset, 16 subjects: checks the plumbing

Five stages, each kept under `--work` and reused when the script is run again (an interrupted stage continues where it
stopped):

1. cohort: `make_robust_cohort(work/'cohort', 'robust_a', n_subjects=120, seed=5)` (half AD, half CN);
2. generator: `train_generator(preset='cpu')` on it (resumed from its checkpoints);
3. synthetic cohort: `generate_cohort`, 120 brains with balanced sex and diagnosis (CN/AD), DDIM 50 steps, guidance 3;
4. encoder: the built-in `synth-mae-tiny` weights (made once, offline, in `weights_dir()`);
5. evaluation: `evaluate_generator` with that encoder (always recomputed; it is the cheap stage).

The report goes to `benchmarks/generator_quality.md` and `.json`, with a small figure of real and generated brains per diagnosis
in `benchmarks/generator_quality_samples.png`. With `--smoke` (generator preset 'tiny', 16 subjects, 16 generated brains, and a
one-epoch variant of the built-in encoder kept in the work folder) all three go into the work folder instead, so that a smoke
test never replaces the real report.
"""
import argparse, json, math, os, platform, sys, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
import torch
import neurovit_nb
from neurovit_nb.data.cohort import load_cohort
from neurovit_nb.data.robust import make_robust_cohort
from neurovit_nb.train.generator import train_generator
from neurovit_nb.models.hub import resolve_pretrained, weights_dir
from neurovit_nb.train.pretrain import build_builtin
from neurovit_nb.generate import generate_cohort
from neurovit_nb.generate_quality import evaluate_generator, load_encoder

ROOT = Path(__file__).resolve().parent.parent
CONDITIONS = {'sex': {'F': .5, 'M': .5}, 'diagnosis': {'CN': .5, 'AD': .5}}
SAMPLES_DPI = 60  # keeps the samples figure (about 80 kB) small enough to commit


def settings(a) -> dict:
    "What the run does; the smoke run shrinks the cohort, the generator and the encoder's recipe."
    s = dict(cohort_preset='robust_a', n_subjects=120, cohort_seed=5, generator_preset='cpu', n_generated=120, gen_seed=0,
             ddim_steps=50, guidance=3.0, encoder='synth-mae-tiny', encoder_recipe=None, n_boot=1000, n_splits=20, n_pairs=50)
    if a.smoke: s.update(n_subjects=16, generator_preset='tiny', n_generated=16,
                         encoder_recipe=dict(synth=dict(n_subjects=16), pretrain=dict(epochs=1, warmup_epochs=0)))
    return s


def cpu_name() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'unknown CPU'


def machine() -> dict:
    return dict(platform=platform.platform(), python=platform.python_version(), cpu=cpu_name(), cpu_count=os.cpu_count(),
                torch=str(torch.__version__), torch_threads=torch.get_num_threads(), omp_num_threads=os.environ.get('OMP_NUM_THREADS'),
                load_average_at_start=round(os.getloadavg()[0], 2), neurovit_nb=str(neurovit_nb.__version__))


class Stages:
    "Wall time of each stage, kept in the work folder so that a resumed run still reports how long a reused stage took."
    def __init__(self, path:Path):
        self.path = path
        self.rec = json.loads(path.read_text()) if path.exists() else {}

    def run(self, name:str, fn, done):
        "Run `fn` (which reuses what exists); a stage that was `done` before (a bool, or a test of `fn`'s result) keeps its first wall time."
        print(f'[{name}] {"reusing" if done is True else "running" if done is False else "running (or reusing)"} ...', flush=True)
        t0 = time.perf_counter(); out = fn(); dt = time.perf_counter() - t0
        done = done(out) if callable(done) else done
        if done: self.rec[name] = {**self.rec.get(name, dict(wall_s=None)), 'reused': True, 'check_s': dt}  # wall_s None: made before this record
        else: self.rec[name] = dict(wall_s=dt, reused=False, finished=datetime.now(timezone.utc).isoformat(timespec='seconds'))
        self.path.write_text(json.dumps(self.rec, indent=1))
        print(f'[{name}] {dt:.1f} s', flush=True)
        return out


def plain(o):
    "JSON-ready copy: NaN and infinities become None, numpy scalars become Python numbers."
    if isinstance(o, dict): return {str(k): plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [plain(v) for v in o]
    if isinstance(o, (np.floating, float)): return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer): return int(o)
    return o


def est(d, digits=3) -> str:
    "`value [lo, hi]` of an estimate dict (or a value and a [lo, hi] pair)."
    if d is None: return 'n/a'
    v, lo, hi = (d['value'], d.get('lo'), d.get('hi')) if isinstance(d, dict) else d
    if v is None or (isinstance(v, float) and not math.isfinite(v)): return 'n/a'
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)): return f'{v:.{digits}f}'
    return f'{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]'


def write_markdown(path:Path, r:dict, command:str):
    s, m, t, res, g = r['settings'], r['machine'], r['stages'], r['results'], r['generator']
    L = [f"# Generator quality ({'smoke test, ' if r['smoke'] else ''}`{s['generator_preset']}` preset)", '',
         f'Command: `{command}`  ', f"Date: {r['date']}", '',
         f"Machine: {m['platform']}, {m['cpu']}, {m['cpu_count']} logical CPUs, torch {m['torch']} with {m['torch_threads']} thread(s) "
         f"(OMP_NUM_THREADS={m['omp_num_threads']}), load average {m['load_average_at_start']} at the start (a shared machine: wall "
         f"times include other users' load); Python {m['python']}, neurovit_nb {m['neurovit_nb']}.", '',
         '## Set-up', '',
         f"- Cohort: `make_robust_cohort(cohort, {s['cohort_preset']!r}, n_subjects={s['n_subjects']}, seed={s['cohort_seed']})`, "
         f"{r['cohort']['n_images']} images of {r['cohort']['n_subjects']} subjects ({r['cohort']['diagnosis']}; {r['cohort']['sex']}).",
         f"- Generator: `train_generator(preset={s['generator_preset']!r})`; {g.get('n_train')} training and {g.get('n_test')} held-out "
         f"images (split by subject); autoencoder on held-out images: {json.dumps(g.get('ae_test'))}.",
         f"- Generated: {s['n_generated']} brains, sex F/M 1:1 and diagnosis CN/AD 1:1 drawn at random, DDIM {s['ddim_steps']} steps, "
         f"guidance {s['guidance']}, seed {s['gen_seed']} ({r['generation'].get('volumes_per_s') or 0:.2f} volumes/s when made).",
         f"- Encoder for the Fréchet distance: `{s['encoder']}`"
         + (f" (smoke variant: recipe changes {json.dumps(s['encoder_recipe'])})" if s['encoder_recipe'] else ' (the built-in weights)')
         + f"; features: mean of the patch tokens, {res.get('frechet', {}).get('feature_dim', '?')} per image.", '',
         '## Wall times', '', '| stage | wall s | |', '|---|---:|---|']
    for k, v in t.items():
        w = 'n/a' if v.get('wall_s') is None else f"{v['wall_s']:.1f}"
        L.append(f"| {k} | {w} | {'made in an earlier run, reused' if v.get('reused') else 'made in this run'} |")
    L += ['', '## Results', '',
          'Intervals: AUCs, percentile bootstrap 95 % (resampling subjects for TSTR, images for the conditioning AUCs); the TSTR '
          "difference, DeLong's paired 95 % interval; Fréchet distances, the 2.5-97.5 % range over random splits of the real images. "
          'MS-SSIM and the memorisation numbers are point values.', '',
          '### Conditioning (classifier trained on real images, applied to generated ones)', '',
          '| label | AUC on generated | AUC on held-out real (ceiling) |', '|---|---|---|']
    for key in ('sex', 'diagnosis'):
        c = res.get(key)
        if c: L.append(f"| {key} | {est((c['auc_generated'], *c.get('auc_generated_ci', [None, None])))} | "
                       f"{est((c.get('auc_real_test'), *c.get('auc_real_test_ci', [None, None]))) if c.get('auc_real_test') is not None else 'n/a'} |")
        else: L.append(f'| {key} | n/a (one class only) | |')
    L += ['', '### Train on synthetic, test on real (same classifier; held-out real test images)', '',
          '| label | train on synthetic | train on real | difference (synthetic - real) | p (DeLong) | n gen / train / test |', '|---|---|---|---|---|---|']
    for key in ('sex', 'diagnosis'):
        x = res.get('tstr', {}).get(key)
        if x:
            p = x['difference'].get('p_value')
            L.append(f"| {key} | {est(x['synthetic'])} | {est(x['real'])} | {est(x['difference'])} | {'n/a' if p is None else format(p, '.3g')} | "
                     f"{x['n_gen']} / {x['n_train']} / {x['n_test']} |")
        else: L.append(f'| {key} | n/a (a set lacks one class) | | | | |')
    f = res.get('frechet')
    if f:
        L += ['', f"### Fréchet distance in the encoder's features ({f['n_real']} real, {f['n_generated']} generated images; {f['n_splits']} splits)", '',
              '| | median [2.5 %, 97.5 %] over splits |', '|---|---|',
              f"| generated vs real half A | {est(f['generated'])} |", f"| real half B vs real half A (reference) | {est(f['real_reference'])} |",
              f"| ratio generated / reference | {est(f['ratio'], 2)} |"]
    mem = res['memorisation']
    L += ['', '### Diversity and memorisation', '', '| measure | value |', '|---|---|',
          f"| MS-SSIM between generated pairs (lower: more diverse) | {res['ms_ssim_generated']:.3f} |",
          f"| MS-SSIM between real pairs | {res['ms_ssim_real']:.3f} |",
          f"| median distance, generated to nearest training image | {mem['median_gen_to_train']:.4f} |",
          f"| median distance, held-out real to nearest training image | {mem['median_real_to_train']:.4f} |",
          f"| share of generated closer to a training image than 95 % of held-out real | {mem['frac_closer_than_real_p5']:.3f} |",
          '', '## Samples', '',
          f"Middle sagittal, coronal and axial slices of two real training images and two generated images per diagnosis (the figure "
          f"`evaluate_generator` returns), at {SAMPLES_DPI} dpi:", '',
          f"![real and generated brains per diagnosis]({r['samples_png']})",
          '', '## How to read it', '',
          '- Conditioning AUC near the held-out real AUC: the requested label is visible in generated brains; near 0.5, it is not.',
          '- TSTR: train on synthetic near train on real (a difference whose interval holds 0) means the generated labels carry the '
          'signal a classifier can learn from; near 0.5 means they do not.',
          '- Fréchet ratio near 1: generated brains are as close to real ones as two halves of the real cohort are to each other; '
          'well above 1: distinguishable in the encoder\'s feature space. The absolute distances depend on the encoder and the sample sizes.',
          '- MS-SSIM of generated pairs well above that of real pairs: too little diversity. A memorisation share well above 0.05: '
          'samples closer to training images than new real brains are (copies).']
    if r['smoke']: L += ['', '**Smoke test**: tiny networks trained for a few steps on 16 subjects; the numbers check the plumbing, not a generator.']
    path.write_text('\n'.join(L) + '\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--work', default=None, help='work folder (default runs/generator_quality, or runs/generator_quality_smoke with --smoke)')
    ap.add_argument('--smoke', action='store_true', help="tiny generator preset, 16 subjects, a one-epoch encoder: minutes")
    ap.add_argument('--out', default=None, help='report path without suffix (default benchmarks/generator_quality; with --smoke, <work>/generator_quality)')
    ap.add_argument('--device', default='cpu', help="where the generator trains and samples ('cpu', 'cuda', 'auto')")
    ap.add_argument('--workers', type=int, default=2, help='processes writing the cohort')
    a = ap.parse_args()
    s = settings(a)
    work = Path(a.work).absolute() if a.work else ROOT/'runs'/('generator_quality_smoke' if a.smoke else 'generator_quality')
    out = Path(a.out) if a.out else (work/'generator_quality' if a.smoke else ROOT/'benchmarks'/'generator_quality')
    work.mkdir(parents=True, exist_ok=True)
    stages, mach = Stages(work/'stages.json'), machine()
    print(f"work folder {work}; {mach['cpu_count']} CPUs, torch threads {mach['torch_threads']}", flush=True)

    cohort = stages.run('cohort', lambda: make_robust_cohort(work/'cohort', s['cohort_preset'], n_subjects=s['n_subjects'], seed=s['cohort_seed'], n_workers=a.workers),
                        done=(work/'cohort'/'code'/'neurovit_robust.json').exists())
    gen_dir = work/'generator'
    gm = stages.run('generator', lambda: train_generator({'device': a.device}, cohort, gen_dir, preset=s['generator_preset'],
                                                          resume=(gen_dir/'config.json').exists(), progress=False),
                    done=(gen_dir/'metrics.json').exists())
    synth = work/'synthetic'
    st = stages.run('generate', lambda: generate_cohort(gen_dir, synth, n=s['n_generated'], seed=s['gen_seed'], conditions=CONDITIONS,
                                                        ddim_steps=s['ddim_steps'], guidance=s['guidance'], bs=8, device=a.device, progress=False),
                    done=(synth/'code'/'generation_stats.json').exists() and len(list(synth.glob('sub-*/ses-*/anat/*_T1w.nii.gz'))) == s['n_generated'])
    if not st.get('volumes_per_s'): st = json.loads((synth/'code'/'generation_stats.json').read_text())  # reused: the stats of the run that made them
    recipe = s['encoder_recipe'] or {}
    wdir = work/'weights' if a.smoke else None  # the smoke variant stays in the work folder; the real weights in the shared cache
    before = set(weights_dir(wdir).glob('*/weights.pt')) if weights_dir(wdir).exists() else set()
    weights = stages.run('encoder', lambda: resolve_pretrained(s['encoder'], wdir, progress=False, make=build_builtin, **recipe), done=lambda p: p in before)
    enc = load_encoder(weights)
    res, fig = stages.run('evaluate', lambda: evaluate_generator(gen_dir, synth, n_pairs=s['n_pairs'], encoder=enc, n_boot=s['n_boot'],
                                                                 n_splits=s['n_splits']), done=False)
    res['frechet']['encoder'] = s['encoder']
    res['frechet']['feature_dim'] = int(enc.cfg.embed_dim)
    png = out.parent/f'{out.name}_samples.png'  # beside the report (in the work folder for --smoke)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=SAMPLES_DPI)

    df = load_cohort(cohort)
    subj = df.drop_duplicates('subject')
    r = dict(smoke=a.smoke, date=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), machine=mach, settings=s,
             cohort=dict(n_images=len(df), n_subjects=int(df.subject.nunique()),
                         diagnosis=', '.join(f'{k} {v}' for k, v in subj.diagnosis.value_counts().sort_index().items()) + ' subjects',
                         sex=', '.join(f'{k} {v}' for k, v in subj.sex.value_counts().sort_index().items()) + ' subjects'),
             generator={k: gm.get(k) for k in ('n_train', 'n_test', 'ae_test', 'ae_steps_per_s', 'ldm_steps_per_s', 'time_s')},
             generation={k: st.get(k) for k in ('n', 'seconds', 'volumes_per_s', 'device')},
             stages=stages.rec, results=res, samples_png=png.name)
    r = plain(r)
    command = ' '.join(['nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/generator_quality.py', *sys.argv[1:]])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps(r, indent=1) + '\n')
    write_markdown(out.with_suffix('.md'), r, command)
    print(f'wrote {out.with_suffix(".md")} and {out.with_suffix(".json")}')
    print(out.with_suffix('.md').read_text())


if __name__ == '__main__': main()
