#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for tests: slurmctld + slurmd on 127.0.0.1, munged,
# two GPUs declared as GRES (their device files are character-device copies of /dev/null, so GPU
# jobs are scheduled on a machine without a GPU). No cgroups (proctrack/linuxproc, task/none): it
# runs in containers. Finished jobs stay in slurmctld's memory for an hour (MinJobAge), so
# `scontrol show job` tells what each job of a test run requested. Two partitions on the one node,
# `cpu` (the default) and `gpu`, as docs/nextflow.md's SLURM example names them. A count-only GRES
# `lscratch` besides the GPUs, as sites declare local scratch space (--gres=lscratch:N).
#
#   start_slurm.sh DIR     install Debian's slurm-wlm and munge if missing (root + apt-get), write
#                          DIR/slurm.conf, start the daemons, wait for the node; prints
#                          SLURM_CONF=DIR/slurm.conf (export it for sbatch, squeue, scontrol)
#   stop_slurm.sh DIR      stops them
#
# Exit status 3: SLURM is not installed and cannot be (not root, or no apt-get).
set -euo pipefail

dir=$(realpath -m "${1:?usage: start_slurm.sh DIR}")
node=splamflow-node

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
        || ! command -v sbatch >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "start_slurm.sh: slurmctld, slurmd, munged or sbatch missing, and installing slurm-wlm and munge needs root and apt-get" >&2
        exit 3
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

mkdir -p "$dir"/{state,spool,log,dev}
# a munge of our own (key, socket, pid), so that the test cluster shares nothing with a system one
munge_dir="$dir/munge"
mkdir -p "$munge_dir"
if [ ! -s "$munge_dir/munge.key" ]; then
    dd if=/dev/urandom of="$munge_dir/munge.key" bs=1024 count=1 status=none
fi
chmod 700 "$munge_dir"
chmod 400 "$munge_dir/munge.key"
socket="$munge_dir/munge.socket"
# munged refuses to run as root without --force; the files are root's, so it runs as root here
munged --force --key-file="$munge_dir/munge.key" --socket="$socket" \
    --pid-file="$munge_dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$munge_dir/munge.seed"

for i in 0 1; do
    [ -c "$dir/dev/gpu$i" ] || mknod "$dir/dev/gpu$i" c 1 3
done

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ctld_port=$(free_port)
slurmd_port=$(free_port)

cat > "$dir/gres.conf" <<CONF
AutoDetect=off
NodeName=$node Name=gpu File=$dir/dev/gpu[0-1]
NodeName=$node Name=lscratch Count=1000
CONF

cat > "$dir/slurm.conf" <<CONF
ClusterName=splamflow
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu,lscratch
MinJobAge=3600
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
LaunchParameters=enable_nss_slurm
SlurmdParameters=config_overrides
SchedulerParameters=sched_interval=2
NodeName=$node NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=8 RealMemory=16000 Gres=gpu:2,lscratch:1000 State=UNKNOWN
PartitionName=cpu Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=gpu Nodes=$node MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$node"

for _ in $(seq 60); do
    if ! kill -0 "$(cat "$dir/slurmctld.pid" 2>/dev/null)" 2>/dev/null; then
        break
    fi
    state=$(timeout 5 sinfo -h -N -o '%T' 2>/dev/null | sort -u || true)
    if [ "$state" = idle ]; then
        echo "SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 1
done
echo "start_slurm.sh: slurmctld stopped or the node did not become idle (state: ${state:-none}); logs in $dir/log" >&2
tail -n 20 "$dir"/log/*.log >&2 || true
exit 1
