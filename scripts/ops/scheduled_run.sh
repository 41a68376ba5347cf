#!/usr/bin/env bash
# Scheduled rerun of the workflow on a new registration snapshot, for cron or a systemd timer.
#
#   scripts/ops/scheduled_run.sh DATA_DIR SNAPSHOT [extra snakemake arguments...]
#
# - one run at a time: a lock (flock) on results/.scheduled.lock; a second run exits with status 75
# - resumes what an interrupted run left: --rerun-incomplete
# - everything it prints goes to results/<SNAPSHOT>/logs/scheduled-run.log (appended)
# - exit status: 0 success, 75 another run holds the lock, 64 wrong usage, else snakemake's status
# Example crontab line (every night at 02:00):
#   0 2 * * * cd /srv/wwvw && scripts/ops/scheduled_run.sh /data/snapshots/latest "$(date +\%Y-\%m)"
set -uo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 DATA_DIR SNAPSHOT [snakemake arguments...]" >&2
    exit 64
fi
data_dir=$1
snapshot=$2
shift 2
cd "$(dirname "$0")/../.." || exit 64
mkdir -p "results/$snapshot/logs"
log="results/$snapshot/logs/scheduled-run.log"
exec 9>results/.scheduled.lock
if ! flock --nonblock 9; then
    echo "$(date -Is) another scheduled run holds results/.scheduled.lock; not starting" | tee -a "$log" >&2
    exit 75
fi
runner=(uv run)
command -v uv >/dev/null 2>&1 || runner=()
echo "$(date -Is) start: data_dir=$data_dir snapshot=$snapshot" >>"$log"
"${runner[@]}" snakemake --cores "${WWVW_CORES:-8}" --rerun-incomplete \
    "$@" --config data_dir="$data_dir" snapshot="$snapshot" >>"$log" 2>&1
status=$?
echo "$(date -Is) end: exit status $status" >>"$log"
exit "$status"
