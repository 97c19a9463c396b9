#!/usr/bin/env bash
# Runs every native Go fuzz target of the repository for a bounded time,
# one after the other, and prints a table: package, target, execs, new
# interesting inputs, result.
#
#   scripts/fuzz.sh [seconds]     # default 10 per target
#   FUZZ_MATCH=Decode scripts/fuzz.sh 30   # only targets whose name matches
#
# Targets are found by grepping *_test.go for `func FuzzXxx(`. Each runs as
#   go test -run '^$' -fuzz "^FuzzXxx$" -fuzztime <seconds>s -parallel 2 ./pkg
# (concurrent fuzz runs on a small machine only slow each other down). The
# script exits non-zero when any target fails; go test has then written the
# crashing input to <pkg>/testdata/fuzz/<target>/, where it stays as a
# regression test (plain `go test` runs it) once the bug is fixed.
#
# Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a
# failure on a loaded machine (go.dev/issue/75804, "context deadline
# exceeded", no input written; CI hit it on 3 of 19 targets in one run, once
# twice in a row). Go 1.27 fixed it, so the targets are fuzzed with the
# toolchain FUZZ_TOOLCHAIN (default go1.27.4), which the go command fetches
# once from the module proxy into the module cache. FUZZ_TOOLCHAIN=local,
# or a toolchain that cannot be fetched (offline), fuzzes with the installed
# Go instead, and a run that fails only with that race is run once more.
set -uo pipefail

secs="${1:-10}"
case "$secs" in
*[!0-9]*) fuzztime="$secs" ;; # 100x, 1m ... as go test takes them
*) fuzztime="${secs}s" ;;
esac
GO="${GO:-go}"
parallel="${FUZZ_PARALLEL:-2}"
match="${FUZZ_MATCH:-}"

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2

toolchain="${FUZZ_TOOLCHAIN:-go1.27.4}"
if [ "$toolchain" != local ]; then
	if have="$(GOTOOLCHAIN="$toolchain" "$GO" version 2>&1)"; then
		export GOTOOLCHAIN="$toolchain"
		echo "fuzz.sh: fuzzing with $have" >&2
	else
		echo "fuzz.sh: cannot get Go toolchain $toolchain ($(echo "$have" | tail -1)); fuzzing with $("$GO" version), retrying its fuzztime deadline race once" >&2
	fi
fi

# "dir name" per target, sorted by package then name.
mapfile -t targets < <(
	grep -rEo --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata --exclude-dir=vendor \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^\./##; s#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#. \1#' |
		sort -u
)
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 2
fi

# deadline_race LOG: the run failed only with "context deadline exceeded"
# from the fuzz coordinator: no failing input written, no panic, no test
# error.
deadline_race() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -q 'Failing input written to' "$1" &&
		! grep -qE 'panic:|_test\.go:[0-9]+:' "$1"
}

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
failed=0
ran=0
start=$(date +%s)
rows=()
for t in "${targets[@]}"; do
	dir="${t% *}"
	name="${t#* }"
	if [ -n "$match" ] && ! [[ "$name" =~ $match ]]; then
		continue
	fi
	ran=$((ran + 1))
	pkg="./$dir"
	[ "$dir" = "." ] && pkg="."
	echo "fuzz.sh: $pkg $name ($fuzztime)" >&2
	t0=$(date +%s)
	"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" >"$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && deadline_race "$log"; then
		# Go's fuzz coordinator can report its own -fuzztime deadline as a
		# failure on a loaded machine (go.dev/issue/75804, fixed in Go
		# 1.27): no input is at fault and none was written. Run again once;
		# a real finding always writes its input and fails as usual.
		echo "fuzz.sh: $pkg $name stopped with Go's fuzztime deadline race (go.dev/issue/75804), no input at fault; running it again" >&2
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" >"$log" 2>&1
		rc=$?
	fi
	took=$(($(date +%s) - t0))
	# The last progress line holds the totals:
	# fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: 7 (total: 40)
	last="$(grep -E '^fuzz: elapsed: .*execs: [0-9]+' "$log" | tail -n 1)"
	execs="$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")"
	newi="$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")"
	if [ "$rc" -eq 0 ]; then
		result="ok"
	else
		result="FAIL"
		failed=$((failed + 1))
		echo "----- $pkg $name failed:" >&2
		grep -vE '^fuzz: elapsed: ' "$log" | tail -n 40 >&2
		crasher="$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$log" | tail -n 1)"
		if [ -n "$crasher" ]; then
			echo "----- crasher kept in $dir/$crasher; reproduce with: $GO test -run '^${name}/${crasher##*/}\$' $pkg" >&2
		fi
	fi
	rows+=("$(printf '%-28s %-28s %12s %8s %6s %5ss' "${dir}" "$name" "${execs:--}" "${newi:--}" "$result" "$took")")
done

printf '\n%-28s %-28s %12s %8s %6s %6s\n' PACKAGE TARGET EXECS NEW RESULT TIME
for r in "${rows[@]}"; do
	echo "$r"
done
echo "fuzz.sh: $ran targets, ${fuzztime} each, $(($(date +%s) - start))s in total"
echo "fuzz: $((ran - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
