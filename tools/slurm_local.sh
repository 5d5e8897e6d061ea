#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for trying `neurovit_nb.scaling.sweep`'s SLURM path without a cluster.
#
#   sudo tools/slurm_local.sh install   # apt-get install slurm-wlm munge (Debian/Ubuntu), once
#   sudo tools/slurm_local.sh start     # munge key, slurm.conf for localhost, start munged + slurmctld + slurmd, wait for an idle node
#   tools/slurm_local.sh status         # sinfo (exit 1 if the cluster does not answer)
#   sudo tools/slurm_local.sh stop      # stop the three daemons (the configuration and state stay)
#
# What it sets up: one node (this host, 127.0.0.1) with CPUs from `nproc` and RealMemory from `free`, one partition
# `debug` (default, no time limit), no cgroups (proctrack/linuxproc, task/none), cons_tres selection of CPUs (memory is
# not a consumable, so an array's cells run side by side), no accounting. State and logs go to $SLURM_LOCAL_DIR
# (default /var/spool/slurm-local). The daemons are started directly (no systemd), so it also works in containers.
# It needs root (daemons, /etc/slurm/slurm.conf). Every command is idempotent: `start` on a running cluster only
# checks it. It refuses to overwrite a /etc/slurm/slurm.conf it did not write (SLURM_LOCAL_FORCE=1 overrides).
# Then: `sinfo`, `srun -p debug hostname`, or a sweep with `executor='slurm', slurm=dict(partition='debug')`.
set -euo pipefail

STATE=${SLURM_LOCAL_DIR:-/var/spool/slurm-local}
CONF=/etc/slurm/slurm.conf
MARK='# written by tools/slurm_local.sh'
NODE=$(hostname -s)
WAIT_S=${SLURM_LOCAL_WAIT_S:-60}

die() { echo "slurm_local: error: $*" >&2; exit 1; }
say() { echo "slurm_local: $*"; }
need_root() { [ "$(id -u)" = 0 ] || die "'$1' needs root (daemons and /etc/slurm); run it with sudo"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
have_binaries() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sinfo >/dev/null; }

do_install() {
  need_root install
  if have_binaries; then say "slurm-wlm and munge already installed ($(slurmd -V))"; return; fi
  command -v apt-get >/dev/null || die "no apt-get: install SLURM (slurmctld, slurmd, sinfo) and munge with your package manager"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || die "apt-get update failed (no network or no package mirror?)"
  apt-get install -y -q --no-install-recommends slurm-wlm munge || die "apt-get install slurm-wlm munge failed"
  have_binaries || die "packages installed but slurmctld/slurmd/munged/sinfo are not on PATH"
  # where systemd runs, the packages enable their own services; this script starts the daemons itself
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then systemctl disable --now slurmctld slurmd >/dev/null 2>&1 || true; fi
  say "installed $(slurmd -V)"
}

start_munge() {
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
    say "created /etc/munge/munge.key"
  fi
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.25; done
  die "munged runs but 'munge -n | unmunge' fails (see /var/log/munge/munged.log)"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF" && [ "${SLURM_LOCAL_FORCE:-0}" != 1 ]; then
    die "$CONF exists and was not written by this script; move it away or set SLURM_LOCAL_FORCE=1 to replace it"
  fi
  local cpus mem
  cpus=$(nproc)
  mem=$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')  # a little below the total: slurmd drains a node that has less than configured
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$STATE/log"
  cat > "$CONF.tmp" <<EOF
$MARK (single-node test cluster; 'tools/slurm_local.sh start' rewrites it)
ClusterName=neurovit-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerType=sched/backfill
MaxArraySize=10001
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
MinJobAge=300
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
  say "wrote $CONF (node $NODE: $cpus CPUs, $mem MB)"
}

node_state() { sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -1 | tr -d '*~#!%$@^-'; }

start() {
  need_root start
  have_binaries || die "SLURM is not installed; run '$0 install' first"
  if alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid"; then
    case "$(node_state)" in idle|mixed|allocated) say "already running"; status; return ;; esac
  fi
  start_munge
  write_conf
  if ! alive "$STATE/slurmctld.pid"; then
    slurmctld -i || die "slurmctld did not start; see $STATE/log/slurmctld.log"
  fi
  if ! alive "$STATE/slurmd.pid"; then
    slurmd -N "$NODE" || die "slurmd did not start; see $STATE/log/slurmd.log"
  fi
  local s=''
  for _ in $(seq $((WAIT_S * 2))); do
    s=$(node_state)
    case "$s" in
      idle|mixed|allocated) say "node $NODE is $s"; status; return ;;
      drained|draining|down) scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  echo "--- last lines of $STATE/log/slurmctld.log" >&2; tail -n 15 "$STATE/log/slurmctld.log" >&2 2>/dev/null || true
  echo "--- last lines of $STATE/log/slurmd.log" >&2; tail -n 15 "$STATE/log/slurmd.log" >&2 2>/dev/null || true
  die "node $NODE is not idle after ${WAIT_S}s (state: '${s:-no answer from slurmctld}'); logs above"
}

stop_one() {  # pid file, name
  if alive "$1"; then
    local pid; pid=$(cat "$1"); kill "$pid"
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && die "$2 (pid $pid) did not stop"
    say "stopped $2"
  else say "$2 not running"; fi
}

stop() {
  need_root stop
  stop_one "$STATE/slurmd.pid" slurmd
  stop_one "$STATE/slurmctld.pid" slurmctld
  stop_one /run/munge/munged.pid munged
}

status() {
  command -v sinfo >/dev/null || die "SLURM is not installed (no sinfo); run '$0 install'"
  sinfo || die "sinfo cannot reach slurmctld; start the cluster with '$0 start'"
}

case "${1:-}" in
  install) do_install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 install|start|stop|status|restart" >&2; exit 2 ;;
esac
