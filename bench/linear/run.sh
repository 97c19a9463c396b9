#!/bin/sh
# Side-by-side benchmark: otai's linear classifier against the scikit-learn
# baseline (../shared/bench/sklearn_baseline.py, run unchanged through
# sklearn_timed.py, which adds CPU times) on the same splits, in one run.
#   sh bench/linear/run.sh            # all data sets: ende de endava
#   DATASETS="ende" sh bench/linear/run.sh
# Both sides run on ONE core: pinned with taskset to CPU ${CORE:-0}, sklearn
# with OMP/OPENBLAS/MKL_NUM_THREADS=1, otai with GOMAXPROCS=1.
# Writes OUT (default /tmp/otai-bench): the exported splits, the baseline's
# JSON, otai's JSON lines, and table.md.
set -eu
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
OUT=${OUT:-/tmp/otai-bench}
DATASETS=${DATASETS:-"ende de endava"}
CORE=${CORE:-0}
PY=/usr/bin/python3
D=$SHARED/datasets
if ! $PY -c 'import sklearn' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update && apt-get install -y python3-sklearn
	else
		echo "the baseline needs Debian's python3-sklearn: sudo apt-get update && sudo apt-get install -y python3-sklearn" >&2
		exit 3
	fi
fi
mkdir -p "$OUT"
go build -o "$OUT/linear-bench" ./bench/linear
{ echo "start: $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/machine.txt"
for ds in $DATASETS; do
	case $ds in
	ende) data=$D/tobibueck_v5_en_de_prefix.csv,$D/tobibueck_v4_en_de_prefix.csv; langs=en,de; map= ;;
	de) data=$D/tobibueck_german_normalized.csv; langs=en,de; map= ;;
	endava) data=$D/endava_all_tickets_subset.csv; langs=all; map=subject=title,queue=category,priority=urgency ;;
	*) echo "unknown data set $ds" >&2; exit 2 ;;
	esac
	echo "== $ds (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	$PY bench/linear/export_split.py --baseline "$SHARED/bench/sklearn_baseline.py" --data "$data" --langs $langs --map "$map" --out "$OUT/$ds" >&2
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c "$CORE" \
		$PY bench/linear/sklearn_timed.py --baseline "$SHARED/bench/sklearn_baseline.py" --data "$data" --langs $langs --map "$map" --json "$OUT/$ds.sklearn.json"
	GOMAXPROCS=1 taskset -c "$CORE" "$OUT/linear-bench" -split "$OUT/$ds" -name "$ds" -predict-reps 10 > "$OUT/$ds.otai.jsonl"
	# the cheaper variant: continue the calibrated fit 3 epochs instead of refitting
	GOMAXPROCS=1 taskset -c "$CORE" "$OUT/linear-bench" -split "$OUT/$ds" -name "$ds" -predict-reps 10 -refit-epochs 3 > "$OUT/$ds.otai-cont.jsonl"
	# the linear model alone, without the memory of training tickets (train --neighbours=false)
	GOMAXPROCS=1 taskset -c "$CORE" "$OUT/linear-bench" -split "$OUT/$ds" -name "$ds" -predict-reps 10 -nb-beta -1 > "$OUT/$ds.otai-nomem.jsonl"
done
echo "end: $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
cat "$OUT/machine.txt"
$PY bench/linear/table.py "$OUT" $DATASETS | tee "$OUT/table.md"
