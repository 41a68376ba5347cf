#!/usr/bin/env bash
# A real single-node SLURM cluster on localhost, from Debian's packages, and the workflow run on it
# through the project's SLURM profile (workflow/profiles/slurm). One command, as root, on Debian 12:
#
#   bash scripts/dev/slurm_local.sh          # install, start, run the workflow, check every job
#   bash scripts/dev/slurm_local.sh up       # only install and start the cluster
#   bash scripts/dev/slurm_local.sh down     # stop the daemons this script started
#
# What it starts: munged, mariadbd (the accounting database), slurmdbd (accounting: the executor
# plugin asks `sacct` for job states and `sacctmgr` for accounts), slurmctld and slurmd, with
# NodeName=localhost, all CPUs and 85% of the memory, one default partition. It writes
# /etc/slurm/slurm.conf and slurmdbd.conf and refuses to overwrite files it did not write, so it
# never touches a real cluster's configuration. The workflow runs on a fresh snapshot name
# (results/slurm-<timestamp>/); the default profile and `snakemake --cores N` are untouched.
# Everything lands in test-artifacts/slurm-local/ (git-ignored): check-<time>.log, the SLURM job
# logs and the efficiency report of the run. WWVW_SNAKEMAKE names another snakemake executable
# (default: the project's .venv/bin/snakemake, after `uv sync --locked --group cluster`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MARK="# written by wat-werkt-voor-wie scripts/dev/slurm_local.sh"
CLUSTER=wwvw-local
ACCOUNT=wwvw
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
SNAKEMAKE="${WWVW_SNAKEMAKE:-$ROOT/.venv/bin/snakemake}"
if [ -z "${WWVW_SNAKEMAKE:-}" ] && command -v uv >/dev/null 2>&1; then
  (cd "$ROOT" && uv sync --locked --group cluster --quiet) # the SLURM executor plugin
fi
PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)

say() { printf '[slurm_local %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
  say "FAILED: $*"
  exit 1
}

alive() { # alive PIDFILE: the process named in the pid file runs
  [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for ((i = 0; i < seconds; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "$what did not come up within ${seconds}s"
}

own_file_or_absent() {
  [[ ! -e "$1" ]] || grep -qF "$MARK" "$1" || die "$1 exists and was not written by this script"
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  say "$(slurmctld -V) from Debian packages"
}

write_config() {
  own_file_or_absent "$CONF"
  own_file_or_absent "$DBD_CONF"
  local cpus mem_mb password
  cpus=$(nproc)
  mem_mb=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.85}' /proc/meminfo)
  local old_conf=""
  [[ -e "$CONF" ]] && old_conf=$(cat "$CONF")
  cat >"$CONF" <<EOF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# no cgroups on this kind of machine: plain process tracking, no task containment
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# jobs stay visible to squeue for 5 minutes; sacct (slurmdbd) keeps them for good
MinJobAge=300
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  if [[ -s "$DBD_CONF" ]]; then
    password=$(sed -n 's/^StoragePass=//p' "$DBD_CONF")
  else
    password=$(openssl rand -hex 16)
  fi
  cat >"$DBD_CONF" <<EOF
$MARK
DbdHost=localhost
SlurmUser=slurm
AuthType=auth/munge
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$password
StorageLoc=slurm_acct_db
EOF
  if [[ -n "$old_conf" && "$old_conf" != "$(cat "$CONF")" ]] && alive /run/slurmctld.pid; then
    scontrol reconfigure
  fi
  chown slurm:slurm "$DBD_CONF"
  chmod 600 "$DBD_CONF"
  say "wrote $CONF (NodeName=localhost CPUs=$cpus RealMemory=$mem_mb) and $DBD_CONF"
}

start_munge() {
  install -d -o munge -g munge -m 0755 /run/munge
  if ! alive /run/munge/munged.pid; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
  fi
  wait_for 30 munge sh -c 'munge -n | unmunge'
}

start_mariadb() {
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  if ! mariadb-admin ping >/dev/null 2>&1; then
    say "starting mariadbd"
    nohup /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
      --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
      >/var/log/slurm/mariadbd.log 2>&1 &
  fi
  wait_for 60 mariadb mariadb-admin ping
  local password
  password=$(sed -n 's/^StoragePass=//p' "$DBD_CONF")
  mariadb <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

start_slurm() {
  if ! alive /run/slurmdbd.pid; then
    say "starting slurmdbd"
    slurmdbd
  fi
  wait_for 60 slurmdbd sacctmgr -n show cluster
  sacctmgr -n show cluster format=cluster | grep -qw "$CLUSTER" ||
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
  if ! alive /run/slurmctld.pid; then
    say "starting slurmctld"
    slurmctld
  fi
  wait_for 60 slurmctld scontrol ping
  if ! alive /run/slurmd.pid; then
    say "starting slurmd"
    slurmd -N localhost
  fi
  sacctmgr -n show account format=account | grep -qw "$ACCOUNT" ||
    sacctmgr -i add account "$ACCOUNT" Description="wat werkt voor wie" Organization=wwvw >/dev/null
  sacctmgr -n show association where user="$(id -un)" account="$ACCOUNT" format=user |
    grep -qw "$(id -un)" ||
    sacctmgr -i add user "$(id -un)" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null
  for ((i = 0; i < 60; i++)); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    case "$state" in
      idle | mixed | allocated) break ;;
      down* | drain* | fail*) scontrol update NodeName=localhost State=RESUME || true ;;
    esac
    sleep 1
  done
  [[ "$state" =~ ^(idle|mixed|allocated)$ ]] || die "node localhost is '$state', not idle"
  say "cluster up:"
  sinfo
  sacctmgr -n show association format=cluster,account,user
}

up() {
  [[ $EUID -eq 0 ]] || die "run as root (installs packages and starts daemons)"
  install_packages
  write_config
  start_munge
  start_mariadb
  start_slurm
}

down() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/slurmdbd.pid; do
    if alive "$pidfile"; then
      say "stopping $(basename "$pidfile" .pid)"
      kill "$(cat "$pidfile")"
    fi
  done
  mariadb-admin ping >/dev/null 2>&1 && mariadb-admin shutdown && say "stopped mariadbd"
  if alive /run/munge/munged.pid; then
    say "stopping munged"
    kill "$(cat /run/munge/munged.pid)"
  fi
}

check() {
  up
  local snapshot="slurm-$(date +%Y%m%dT%H%M%S)" started
  started=$(date +%Y-%m-%dT%H:%M:%S)
  local artifacts="$ROOT/test-artifacts/slurm-local"
  mkdir -p "$artifacts"
  say "workflow on SLURM: snapshot $snapshot, profile workflow/profiles/slurm"
  cd "$ROOT"
  # No targets, --config last (a --config before a target swallows it). The faster first status
  # check only shortens this check; the profile keeps the plugin's default for real clusters.
  local status=0
  "$SNAKEMAKE" --profile workflow/profiles/slurm \
    --slurm-init-seconds-before-status-checks 5 \
    --slurm-logdir "$artifacts/$snapshot-jobs" --slurm-keep-successful-logs \
    --slurm-efficiency-report --slurm-efficiency-report-path "$artifacts/$snapshot-efficiency" \
    --config snapshot="$snapshot" || status=$?
  say "jobs of this run (sacct):"
  local jobs
  jobs=$(sacct -X -n -P -S "$started" -o JobID,State)
  sacct -X -S "$started" \
    -o JobID,Comment%52,Account,AllocCPUS,ReqMem,Timelimit,Elapsed,State,ExitCode
  say "peak memory per job (sacct, via the plugin's efficiency report):"
  awk -F, 'FNR == 1 {printf "%-52s %9s %10s %10s\n", "rule", "elapsed", "MaxRSS_MB", "ReqMem_MB"}
    FNR > 1 && $3 != "" {printf "%-52s %9s %10.0f %10.0f\n", $4, $5, $13, $14}' \
    "$artifacts/$snapshot-efficiency"/*.csv 2>/dev/null || true
  say "queue now (squeue):"
  squeue
  ((status == 0)) || die "snakemake on SLURM failed (job logs in $artifacts/$snapshot-jobs)"
  local total completed
  total=$(grep -c . <<<"$jobs" || true)
  completed=$(grep -c '|COMPLETED$' <<<"$jobs" || true)
  ((total > 0)) || die "sacct lists no job of this run"
  ((completed == total)) || die "$completed of $total SLURM jobs COMPLETED"
  for target in cohort/flow.csv tables/table1.csv tables/table2.csv qc/linkage.csv; do
    [[ -s "results/$snapshot/$target" ]] || die "results/$snapshot/$target missing"
  done
  say "PASSED: $total SLURM jobs COMPLETED, results in results/$snapshot/"
}

case "${1:-check}" in
  check)
    mkdir -p "$ROOT/test-artifacts/slurm-local"
    log="$ROOT/test-artifacts/slurm-local/check-$(date +%Y%m%dT%H%M%S).log"
    check 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    say "log: $log"
    exit "$status"
    ;;
  up) up ;;
  down) down ;;
  *) die "usage: $0 [check|up|down]" ;;
esac
