#!/usr/bin/env python3
"""PyTorch on the sizes of flstm's bench: a yardstick on a machine with a CUDA GPU.

  matmul: the suite's shapes (bench/matmul_lib.ts) as f32 products (cuBLAS SGEMM; TF32 off,
          so both sides do f32 arithmetic).
  LM step: the suite's comparison model (bench/step.ts COMPARE_MODEL: vocab 10000, emb 256,
          one LSTM of 512, T 20, B 32, full softmax, Adagrad lr 0.2 with accumulator 1.0),
          nn.LSTM (cuDNN), one synced training step at a time, the state carried.
  cells:  the cell bench's LSTM (bench/step.ts STEP_MODEL: 2 layers of 512 with projection
          256, emb 256, T 20, B 32) as nn.LSTM(proj_size) (cuDNN's LSTMP); its softmax is the
          full one over the vocabulary (PyTorch has no sampled softmax), so compare its words/s
          with flstm's only as an upper bound of the work.

  python3 bench/torch_yardstick.py [--flstm FLSTM.json] [--json OUT.json] [--quick]

With --flstm (the JSON of `flstm bench --json FILE` on the same machine) it prints flstm's
figure beside each of PyTorch's and their ratio. Runs on the CPU when there is no GPU (slowly;
for checking the script).
"""
import argparse
import json
import statistics
import sys
import time

import torch

MATMUL_SHAPES = [
    # (name as in flstm's bench, M, K, N, transpose A, transpose B)
    ('1024^3', 1024, 1024, 1024, False, False),
    ('1024^3 NT', 1024, 1024, 1024, False, True),
    ('1024^3 TN', 1024, 1024, 1024, True, False),
    ('lstm X·W', 640, 768, 2048, False, False),
    ('lstm dG·W^T', 640, 2048, 768, False, True),
    ('lstm X^T·dG', 768, 640, 2048, True, False),
]
COMPARE_MODEL = dict(vocab=10000, emb=256, layers=1, hidden=512, proj=0, T=20, B=32, lr=0.2)
STEP_MODEL = dict(vocab=10000, emb=256, layers=2, hidden=512, proj=256, T=20, B=32, lr=0.2)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def time_it(fn, device, min_s=0.3, min_reps=5, max_reps=200):
    """Median seconds of fn() over synced repetitions, after two warm-up calls."""
    fn()
    fn()
    sync(device)
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < min_s and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def bench_matmul(device, quick):
    rows = []
    for name, M, K, N, ta, tb in MATMUL_SHAPES[:1] if quick else MATMUL_SHAPES:
        a = torch.randn((K, M) if ta else (M, K), device=device)
        b = torch.randn((N, K) if tb else (K, N), device=device)
        A = a.t() if ta else a
        B = b.t() if tb else b
        c = A @ B
        # Check one element against a float64 dot product.
        want = (A[M // 2].double() * B[:, N // 3].double()).sum().item()
        err = abs(c[M // 2, N // 3].item() - want)
        if err > 1e-3 * (1 + abs(want)):
            sys.exit(f'matmul {name}: element off by {err}')
        s, reps = time_it(lambda: A @ B, device)
        rows.append(dict(name=f'matmul {name}', ms=s * 1e3, gflops=2 * M * N * K / s / 1e9, reps=reps))
    return rows


class LanguageModel(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.emb = torch.nn.Embedding(m['vocab'], m['emb'])
        self.lstm = torch.nn.LSTM(m['emb'], m['hidden'], num_layers=m['layers'], proj_size=m['proj'])
        self.out = torch.nn.Linear(m['proj'] or m['hidden'], m['vocab'])

    def forward(self, ids, state):
        y, state = self.lstm(self.emb(ids), state)  # time-major [T, B, ...]
        return self.out(y).flatten(0, 1), state


def bench_lm(device, m, steps):
    torch.manual_seed(1)
    model = LanguageModel(m).to(device)
    opt = torch.optim.Adagrad(model.parameters(), lr=m['lr'], initial_accumulator_value=1.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [torch.randint(0, m['vocab'], (m['T'] + 1, m['B']), device=device) for _ in range(4)]
    state = None
    losses = []

    def step(i):
        nonlocal state
        words = batches[i % len(batches)]
        logits, (h, c) = model(words[:-1], state)
        loss = loss_fn(logits, words[1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state = (h.detach(), c.detach())
        losses.append(loss.item())  # reads the loss back, as flstm's bench does per step

    counter = iter(range(10**9))
    s, reps = time_it(lambda: step(next(counter)), device, min_s=1.0 if steps > 3 else 0.2, min_reps=steps)
    if not all(map(lambda x: x == x and x < 1e4, losses)):
        sys.exit(f'LM step: the loss went bad: {losses[-3:]}')
    return dict(ms=s * 1e3, words_per_sec=m['T'] * m['B'] / s, steps=reps, loss=losses[-1],
                params=sum(p.numel() for p in model.parameters()))


def flstm_figures(path):
    """The matching figures of flstm's bench JSON: matmul rows by name, the LM step, the LSTM cell step."""
    r = json.load(open(path))
    mm = {row['name']: row for row in r.get('kernels', []) if row.get('group') == 'matmul'}
    lm = (r.get('compare') or {}).get('flstm')
    cells = (r.get('step') or {}).get('cells', [])
    lstm = next((c for c in cells if c.get('cell') == 'lstm' and not c.get('precision')), None)
    return r.get('adapter', {}).get('description', '?'), mm, lm, lstm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--flstm', help="flstm's bench JSON on the same machine, for ratios")
    ap.add_argument('--json', help='write the figures here')
    ap.add_argument('--quick', action='store_true', help='one matmul shape, three steps per model')
    a = ap.parse_args()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(0) if device.type == 'cuda' else 'CPU'
    print(f'PyTorch {torch.__version__} on {name} (cuDNN {torch.backends.cudnn.version() if device.type == "cuda" else "-"})')
    steps = 3 if a.quick else 20
    out = dict(torch=torch.__version__, device=name, date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
               matmul=bench_matmul(device, a.quick), lm_step=bench_lm(device, COMPARE_MODEL, steps),
               lstmp_step=bench_lm(device, STEP_MODEL, steps))
    fl = flstm_figures(a.flstm) if a.flstm else None
    if fl:
        out['flstm_adapter'] = fl[0]
        print(f'flstm: {fl[0]}')
    print(f"\n{'':28}{'PyTorch':>16}{'flstm':>16}{'flstm/PyTorch':>15}")

    def line(label, ours, theirs, unit):
        ratio = theirs / ours if theirs else None
        cols = f'{ours:>9.1f} {unit}' + (f'{theirs:>9.1f} {unit}{ratio:>14.3f}x' if theirs else '')
        print(f'{label:28}{cols}')
        return ratio

    for row in out['matmul']:
        f = fl[1].get(row['name']) if fl else None
        row['flstm_gflops'] = f['rate'] if f else None
        row['ratio'] = line(row['name'], row['gflops'], row['flstm_gflops'], 'GFLOP/s')
    for key, label, f in (('lm_step', 'LM step (tfjs model)', fl[2] if fl else None), ('lstmp_step', 'LSTMP step (cell bench)', fl[3] if fl else None)):
        s = out[key]
        s['flstm_words_per_sec'] = f['wordsPerSec'] if f else None
        s['ratio'] = line(label, s['words_per_sec'], s['flstm_words_per_sec'], 'words/s')
    print('\nLSTMP step: PyTorch runs the full softmax over 10000 words, flstm a sampled one over ~1200 candidates.')
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(out, fh, indent=1)
        print(f'wrote {a.json}')


if __name__ == '__main__':
    main()
