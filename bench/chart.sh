#!/usr/bin/env bash
# Draws bench/results/latest.svg from bench/results/latest.json (gnuplot,
# bench/chart.gp): one group of bars per workload, one bar per stack.
# Called by bench/run.sh after each run; can be run alone on old results.
set -euo pipefail
cd "$(dirname "$0")/.."
json=${1:-bench/results/latest.json}
svg=${2:-bench/results/latest.svg}
command -v gnuplot >/dev/null || { echo "chart: gnuplot is not installed (scripts/deps.sh bench)" >&2; exit 1; }
data=$(mktemp)
trap 'rm -f "$data"' EXIT
python3 - "$json" >"$data" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for row in doc["rows"]:
    r = row["results"]
    def ns(stack):
        v = (r.get(stack) or {}).get("ns_per_op_median")
        return "NaN" if v is None else f"{v:.3f}"
    print(f'"{row["workload"]}" {ns("netstack-c")} {ns("gvisor")} {ns("lwip")}')
PY
gnuplot -e "data='$data'; out='$svg'" bench/chart.gp
echo "wrote $svg"
