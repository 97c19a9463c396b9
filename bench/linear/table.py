#!/usr/bin/python3
"""Print the side-by-side markdown table from run.sh's outputs: table.py OUT DATASET..."""
import json
import sys

out, names = sys.argv[1], sys.argv[2:]
print('| data | target | model | features | accuracy | macro-F1 | ECE | train s | predict ms/ticket | tickets/s (1 core) |')
print('|---|---|---|---|---|---|---|---|---|---|')
goals = []
for ds in names:
    sk = json.load(open(f'{out}/{ds}.sklearn.json'))['results']
    ot = [json.loads(l) for l in open(f'{out}/{ds}.otai.jsonl') if l.strip()]
    for target in ('queue', 'priority'):
        rows = [r for r in sk if r['target'] == target]
        for r in rows:
            print(f"| {ds} | {target} | sklearn {r['model']} | {r['features']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | | "
                  f"{r['train_s']:.2f} | {r['predict_ms_per_ticket']:.3f} | {1000 / max(r['predict_ms_per_ticket'], 1e-9):,.0f} |")
        o = next(r for r in ot if r['target'] == target)
        print(f"| {ds} | {target} | **otai linear** | word 1-3 + char_wb 2-5, hashed | **{o['accuracy']:.3f}** | **{o['macro_f1']:.3f}** | "
              f"{o['ece']:.3f} | {o['train_s']:.2f} | {o['predict_ms_per_ticket']:.3f} | {o['predict_tickets_per_s_1core']:,.0f} |")
        best = max(rows, key=lambda r: r['macro_f1'])
        wc = [r for r in rows if r['model'] == 'lr' and 'char' in r['features']][0]
        goals.append((ds, target, o, best, wc))
print()
for ds, target, o, best, wc in goals:
    print(f"- {ds} {target}: macro-F1 {o['macro_f1']:.3f} vs best sklearn {best['macro_f1']:.3f} ({best['model']}), "
          f"diff {o['macro_f1'] - best['macro_f1']:+.3f} (goal +0.020); predict {wc['predict_ms_per_ticket'] / max(o['predict_ms_per_ticket'], 1e-9):.1f}x "
          f"faster than sklearn LR word+char (goal 10x), {o['predict_tickets_per_s_1core']:,.0f} tickets/s (goal 20,000); "
          f"train {wc['train_s'] / max(o['train_s'], 1e-9):.1f}x faster (goal 10x)")
