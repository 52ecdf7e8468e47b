#!/usr/bin/env bash
# Refit the spotter on the shipped models and regenerate every figure of docs/spotting.md:
#   tools/spot_refit.sh [BENCH_ROOT=/tmp/spot2]
# 1. the PROXY benchmarks with their hard negatives (built once; skipped when present),
# 2. the fits (each model's default version; its dev records are cached per version under
#    DEV/.records-<model>-v<N>, so a new version re-runs the pipeline on dev by itself),
# 3. the report (PROXY tests of both seeds, masked, hard negatives, the real clips' events),
# 4. the real-clip contact sheet to check each event by eye, 5. the overhead.
# Everything under nice -n 10 (the machine is shared). ~15 min on a quiet 2-core machine once
# the benchmarks exist (about 12 more to build them).
set -euo pipefail
root=${1:-/tmp/spot2}
py=".venv/bin/python"
run() { echo "+ $*" >&2; nice -n 10 "$py" "$@"; }
[ -d "$root/s0/test" ] || run -m tools.spot_bench "$root/s0" --clips-per-subject 2 --negatives 2 --seed 0
[ -d "$root/s1/test" ] || run -m tools.spot_bench "$root/s1" --clips-per-subject 2 --negatives 2 --seed 1 --split-seed 0 --parts test
[ -d "$root/masked/test" ] || run -m tools.spot_bench "$root/masked" --masked --clips-per-subject 4 --negatives 2 --seed 2
[ -d "$root/masked-s3/test" ] || run -m tools.spot_bench "$root/masked-s3" --masked --clips-per-subject 4 --negatives 2 --seed 3 --split-seed 2 --parts test
run -m training.spot_fit "$root/s0/dev" --model micro-cnn --write service/spotting/params.json
run -m training.spot_fit "$root/masked/dev" --model masked-cnn --write service/spotting/params.json
run -m training.spot_report --bench "micro-seed0=$root/s0/test" --bench "micro-seed1=$root/s1/test" \
  --masked "masked-seed2=$root/masked/test" --masked "masked-seed3=$root/masked-s3/test" \
  --real ../shared/data/video --out build/spot/report
run -m tools.spot_sheet docs/images/spotting-real.jpg ../shared/data/video/*.mp4 ../shared/data/video/*.mov
run -m tools.spot_sheet docs/images/spotting-real-masked.jpg ../shared/data/video/*.mp4 ../shared/data/video/*.mov --model masked-cnn
run -m bench.spotting --out build/spot/overhead.json
echo "figures: build/spot/report/report.md; sheet: docs/images/spotting-real.jpg; overhead: build/spot/overhead.json"
