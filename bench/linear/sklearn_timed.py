#!/usr/bin/python3
"""Run ../shared/bench/sklearn_baseline.py unchanged, adding CPU times.

The baseline times training and prediction with time.perf_counter() (wall
clock). On a shared machine wall time includes the time other processes take
from us, so this wrapper hands the baseline a `time` module whose
perf_counter() also records the process CPU time at each call; each run()
makes exactly four calls (train start/end, predict start/end), which gives
train_cpu_s and predict_cpu_ms_per_ticket next to the baseline's own figures.

    /usr/bin/python3 bench/linear/sklearn_timed.py --baseline ../shared/bench/sklearn_baseline.py \
        --data FILE[,FILE] [--langs en,de|all] [--map ...] --json OUT.json
Run it on one core: taskset -c 0 with OMP/OPENBLAS/MKL_NUM_THREADS=1 (run.sh does).
"""
import argparse
import importlib.util
import json
import sys
import time
from collections import Counter


class _Clock:
    """A stand-in for the time module: perf_counter() is wall time, and
    every call also records the process CPU time."""

    def __init__(self):
        self.cpu = []

    def perf_counter(self):
        self.cpu.append(time.process_time())
        return time.perf_counter()

    def __getattr__(self, name):
        return getattr(time, name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--baseline', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--langs', default='en,de')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--C', type=float, default=10.0)
    ap.add_argument('--map', default='')
    ap.add_argument('--json', required=True)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location('baseline', a.baseline)
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    clock = _Clock()
    base.time = clock
    langs = None if a.langs == 'all' else set(a.langs.split(','))
    colmap = dict(kv.split('=', 1) for kv in a.map.split(',') if kv)
    rows = base.load(a.data, langs, colmap)
    print(f'data={a.data} rows={len(rows)} langs={dict(Counter(r["language"] for r in rows))}', file=sys.stderr)
    results = []
    # The same loop as the baseline's main().
    for target in ('queue', 'priority'):
        for chars, model in ((False, 'lr'), (True, 'lr'), (True, 'lr-balanced'), (True, 'svm-balanced')):
            clock.cpu.clear()
            res = base.run(rows, target, a.seed, chars, a.C, model)
            assert len(clock.cpu) == 4, clock.cpu
            c = clock.cpu
            res['train_cpu_s'] = round(c[1] - c[0], 3)
            res['predict_cpu_ms_per_ticket'] = round(1000 * (c[3] - c[2]) / res['n_test'], 4)
            results.append(res)
            print(json.dumps(res), file=sys.stderr, flush=True)
    json.dump({'data': a.data, 'rows': len(rows), 'seed': a.seed, 'results': results}, open(a.json, 'w'), indent=1)


if __name__ == '__main__':
    sys.exit(main())
