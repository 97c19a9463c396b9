#!/usr/bin/python3
"""Export the exact train/test split of ../shared/bench/sklearn_baseline.py.

For each target (queue, priority) writes OUT/<target>.csv with the columns
split (train|test), label, language, text: the same rows, text and stratified
80/20 split (seed, duplicates dropped, rare labels dropped) that the baseline
script evaluates, so the Go model is scored on identical data.

    /usr/bin/python3 bench/linear/export_split.py --baseline ../shared/bench/sklearn_baseline.py \
        --data FILE[,FILE] [--langs en,de|all] [--map subject=title,...] --out DIR
"""
import argparse
import csv
import importlib.util
import os
from collections import Counter

import numpy as np
from sklearn.model_selection import train_test_split


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--baseline', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--langs', default='en,de')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--map', default='')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location('baseline', a.baseline)
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    langs = None if a.langs == 'all' else set(a.langs.split(','))
    colmap = dict(kv.split('=', 1) for kv in a.map.split(',') if kv)
    rows = base.load(a.data, langs, colmap)
    os.makedirs(a.out, exist_ok=True)
    for target in ('queue', 'priority'):
        # Same filtering and split call as baseline.run().
        counts = Counter(r[target] for r in rows)
        rs = [r for r in rows if counts[r[target]] >= 2]
        y = [r[target] for r in rs]
        idx = np.arange(len(rs))
        tr, te = train_test_split(idx, test_size=0.2, random_state=a.seed, stratify=y)
        with open(os.path.join(a.out, target + '.csv'), 'w', encoding='utf-8', newline='') as f:
            w = csv.writer(f)
            w.writerow(['split', 'label', 'language', 'text'])
            for name, part in (('train', tr), ('test', te)):
                for i in part:
                    w.writerow([name, rs[i][target], rs[i]['language'], rs[i]['text']])
        print(f'{target}: train={len(tr)} test={len(te)} classes={len(counts)}')


if __name__ == '__main__':
    main()
