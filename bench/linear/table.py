#!/usr/bin/python3
"""Print the side-by-side markdown table from run.sh's outputs: table.py OUT DATASET...

Times: CPU seconds of the (single-threaded, one-core) process, with wall
seconds in brackets; ratios are computed on CPU time (stable on a shared
machine) and, in brackets, on wall time."""
import json
import os
import sys

out, names = sys.argv[1], sys.argv[2:]
print('| data | target | model | features | accuracy | macro-F1 | ECE | train s CPU (wall) | predict ms/ticket CPU (wall) | tickets/s CPU (wall) |')
print('|---|---|---|---|---|---|---|---|---|---|')
goals = []


def tps(ms):
    return 1000 / max(ms, 1e-9)


for ds in names:
    sk = json.load(open(f'{out}/{ds}.sklearn.json'))['results']
    ot = [json.loads(l) for l in open(f'{out}/{ds}.otai.jsonl') if l.strip()]
    for target in ('queue', 'priority'):
        rows = [r for r in sk if r['target'] == target]
        for r in rows:
            print(f"| {ds} | {target} | sklearn {r['model']} | {r['features']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | | "
                  f"{r['train_cpu_s']:.2f} ({r['train_s']:.2f}) | {r['predict_cpu_ms_per_ticket']:.3f} ({r['predict_ms_per_ticket']:.3f}) | "
                  f"{tps(r['predict_cpu_ms_per_ticket']):,.0f} ({tps(r['predict_ms_per_ticket']):,.0f}) |")
        o = next(r for r in ot if r['target'] == target)
        variants = [('**otai linear**', o, True)]
        for suffix, name in (('cont', 'otai linear, continued refit (-refit-epochs 3)'),
                             ('nomem', 'otai linear without memory (--neighbours=false)')):
            if os.path.exists(f'{out}/{ds}.otai-{suffix}.jsonl'):
                oc = [json.loads(l) for l in open(f'{out}/{ds}.otai-{suffix}.jsonl') if l.strip()]
                variants.append((name, next(r for r in oc if r['target'] == target), False))
        for name, v, bold in variants:
            b = '**' if bold else ''
            beta = (v.get('held_out_train_metrics') or {}).get('neighbour_beta')
            mem = '' if 'without memory' in name else f"; memory: word 1-2, strength {beta:g}" if beta else '; memory: none kept'
            print(f"| {ds} | {target} | {name} | word 1-3 + char_wb 3-5, hashed 2^18+2^18{mem} | {b}{v['accuracy']:.3f}{b} | {b}{v['macro_f1']:.3f}{b} | "
                  f"{v['ece']:.3f} | {v['train_cpu_s']:.2f} ({v['train_s']:.2f}) | {v['predict_cpu_ms_per_ticket']:.4f} ({v['predict_ms_per_ticket']:.4f}) | "
                  f"{v['predict_tickets_per_cpu_s']:,.0f} ({v['predict_tickets_per_s_1core']:,.0f}) |")
        best = max(rows, key=lambda r: r['macro_f1'])
        wc = [r for r in rows if r['model'] == 'lr' and 'char' in r['features']][0]
        goals.append((ds, target, o, best, wc))
print()
for ds, target, o, best, wc in goals:
    pr_cpu = wc['predict_cpu_ms_per_ticket'] / max(o['predict_cpu_ms_per_ticket'], 1e-9)
    pr_wall = wc['predict_ms_per_ticket'] / max(o['predict_ms_per_ticket'], 1e-9)
    tr_cpu = wc['train_cpu_s'] / max(o['train_cpu_s'], 1e-9)
    tr_wall = wc['train_s'] / max(o['train_s'], 1e-9)
    print(f"- {ds} {target}: macro-F1 {o['macro_f1']:.3f} vs best sklearn {best['macro_f1']:.3f} ({best['model']}), "
          f"diff {o['macro_f1'] - best['macro_f1']:+.3f} (goal +0.020); accuracy {o['accuracy']:.3f} vs {best['accuracy']:.3f}; "
          f"predict {pr_cpu:.1f}x CPU ({pr_wall:.1f}x wall) faster than sklearn LR word+char (goal 10x), "
          f"{o['predict_tickets_per_cpu_s']:,.0f} tickets/CPU-s ({o['predict_tickets_per_s_1core']:,.0f}/s wall; goal 20,000); "
          f"train {tr_cpu:.1f}x CPU ({tr_wall:.1f}x wall) faster (goal 10x)")
