#!/usr/bin/env bash
# Start-up to first fetch and peak RSS of `otai run --once` on the embedded demo.
# Usage: bash bench/startup.sh [runs]   (needs GNU time: apt-get install -y time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
bin=$(mktemp -d)/otai
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/otai
ls -l "$bin" | awk '{printf "binary size: %.1f MiB\n", $5/1048576}'
measure() { # $1 = data dir; prints "ms_to_first_fetch peak_rss_kib"
  local start out rss fetch
  start=$(date +%s%N)
  out=$(/usr/bin/time -f 'RSS %M' "$bin" run --once --data-dir "$1" --log-format json 2>&1 >/dev/null)
  rss=$(printf '%s\n' "$out" | awk '/^RSS/{print $2}')
  fetch=$(printf '%s\n' "$out" | grep '"msg":"fetched tickets"' | head -1 | sed 's/.*"time":"\([^"]*\)".*/\1/')
  fetch=$(date -d "$fetch" +%s%N)
  echo "$(( (fetch - start) / 1000000 )) $rss"
}
for mode in cold warm; do
  all=""
  for i in $(seq "$runs"); do
    d=$(mktemp -d)
    if [ "$mode" = warm ]; then "$bin" run --once --data-dir "$d" >/dev/null 2>&1; fi
    all+="$(measure "$d")"$'\n'
    rm -rf "$d"
  done
  ms=$(printf '%s' "$all" | awk '{print $1}' | sort -n | tr '\n' ' ')
  rss=$(printf '%s' "$all" | awk '{print $2}' | sort -n | tr '\n' ' ')
  echo "$ms|$rss" | awk -F'|' -v m="$mode" '{ n=split($1,a," "); split($2,r," ");
    printf "%s start (%s): start-up to first fetch median %d ms (min %d, max %d); peak RSS median %.1f MiB (max %.1f)\n",
      m, (m=="cold" ? "new data dir: schema + demo seed" : "existing data dir"), a[int((n+1)/2)], a[1], a[n], r[int((n+1)/2)]/1024, r[n]/1024 }'
done
