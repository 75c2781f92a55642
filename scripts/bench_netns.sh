#!/usr/bin/env bash
# Scale-out past one machine, measured on one machine (issue 17, docs/scaling.md): PostgreSQL,
# Redis, each gateway and the load generator run as separate "hosts", each in a network namespace
# of its own (ip netns + veth on a bridge, Debian's iproute2), each capped to a share of the CPUs by
# a cgroup (CFS quota), so a host cannot borrow another's cores. It measures the same deployment
# (gateways on PostgreSQL + Redis) with one gateway and with two, then prints, per host,
# CPU-seconds per 1,000 messages and how long the cap held it back, PostgreSQL's WAL bytes per
# message and commits per second, and the throughput N gateways would reach against this primary.
#
# GATEWAY_ROLE=api runs ingest-only gateways (no extraction beside it); the default is `all`.
#
# Needs root (namespaces, cgroups), PostgreSQL's server binaries (a private cluster is made under
# the output directory and run as the postgres user; the machine's own cluster is not touched),
# redis-server, and release binaries of the gateway and the harness (GATEWAY_BIN / HARNESS_BIN,
# else built into CARGO_TARGET_DIR). Everything it makes (namespaces, bridge, cgroups, processes)
# is removed on exit. Bounded: BENCH_DURATION_SECONDS per run, BENCH_MAX_MESSAGES at most.
#
#   DB_CPUS=1.0 CACHE_CPUS=0.2 GW_CPUS=0.2 LOAD_CPUS=0.4 scripts/bench_netns.sh   (the defaults: 2 CPUs in all)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${BENCH_DURATION_SECONDS:-12}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
BATCH=${BENCH_BATCH_SIZE:-50}
MAX_MESSAGES=${BENCH_MAX_MESSAGES:-2000000}
DB_CPUS=${DB_CPUS:-1.0}
CACHE_CPUS=${CACHE_CPUS:-0.2}
GW_CPUS=${GW_CPUS:-0.2}
LOAD_CPUS=${LOAD_CPUS:-0.4}
NET=${BENCH_NET:-10.88.0}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/soko-netns.XXXXXX)}
mkdir -p "$OUT"
TOKEN=test-token
SECRET=super-secret
TAG=soko$$
HOSTS=(db cache gw1 gw2 load)

log() { printf '[netns] %s\n' "$*" >&2; }
[[ $EUID -eq 0 ]] || { log "needs root (ip netns, cgroups)"; exit 1; }
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[[ -x $PG_BIN/postgres ]] || { log "PostgreSQL server binaries not found (set PG_BIN)"; exit 1; }
command -v redis-server >/dev/null || { log "redis-server not found"; exit 1; }

# cgroup v1 (separate cpu and cpuacct hierarchies, as here) or v2 (cpu.max, cpu.stat usage_usec).
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then CGROUP_V2=1; else CGROUP_V2=""; fi
cg_dirs() { # host: the cgroup directories a process of it joins
    if [[ -n $CGROUP_V2 ]]; then echo "/sys/fs/cgroup/$TAG-$1"
    else echo "/sys/fs/cgroup/cpu/$TAG-$1 /sys/fs/cgroup/cpuacct/$TAG-$1"; fi
}
cg_make() { # host cpus
    local dir quota
    quota=$(python3 -c "import sys; print(int(float(sys.argv[1]) * 100000))" "$2")
    for dir in $(cg_dirs "$1"); do mkdir -p "$dir"; done
    if [[ -n $CGROUP_V2 ]]; then echo "$quota 100000" >"/sys/fs/cgroup/$TAG-$1/cpu.max"
    else echo 100000 >"/sys/fs/cgroup/cpu/$TAG-$1/cpu.cfs_period_us"; echo "$quota" >"/sys/fs/cgroup/cpu/$TAG-$1/cpu.cfs_quota_us"; fi
}
cg_usage() { # host: CPU-seconds used by its processes so far
    if [[ -n $CGROUP_V2 ]]; then awk '/^usage_usec/ {print $2 / 1e6}' "/sys/fs/cgroup/$TAG-$1/cpu.stat"
    else awk '{print $1 / 1e9}' "/sys/fs/cgroup/cpuacct/$TAG-$1/cpuacct.usage"; fi
}
cg_throttled() { # host: seconds its cap held it back so far
    if [[ -n $CGROUP_V2 ]]; then awk '/^throttled_usec/ {print $2 / 1e6}' "/sys/fs/cgroup/$TAG-$1/cpu.stat"
    else awk '/^throttled_time/ {print $2 / 1e9}' "/sys/fs/cgroup/cpu/$TAG-$1/cpu.stat"; fi
}

PIDS=()
# `ip netns exec` mounts a sysfs of the namespace's own, without the cgroup tree: a process joins
# its host's cgroups first, then enters the namespace. Always called in the background (`&`): the
# subshell becomes the command, so the pid kept is the one to stop.
in_host() { # host command...: replaces the calling (background) shell, so its pid is the command's
    local host=$1; shift
    exec sh -c 'for d in '"$(cg_dirs "$host")"'; do echo $$ >"$d/cgroup.procs" || exit 1; done; exec ip netns exec "$0" "$@"' \
        "$TAG-$host" "$@"
}
run_on() { # host command...: in the host's namespace and cgroups, in the background
    in_host "$@" &
    PIDS+=($!)
}

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    [[ -f $OUT/pgdata/postmaster.pid ]] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$OUT/pgdata" -m fast stop >/dev/null 2>&1
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    for host in "${HOSTS[@]}"; do
        ip netns del "$TAG-$host" 2>/dev/null
        ip link del "v$TAG$host" 2>/dev/null
        for dir in $(cg_dirs "$host"); do rmdir "$dir" 2>/dev/null; done
    done
    ip link del "br$TAG" 2>/dev/null
}
trap cleanup EXIT INT TERM

# The network: a bridge in this namespace, one veth per host.
ip link add "br$TAG" type bridge
ip addr add "$NET.1/24" dev "br$TAG"
ip link set "br$TAG" up
declare -A ADDRESS=([db]=$NET.10 [cache]=$NET.13 [gw1]=$NET.11 [gw2]=$NET.12 [load]=$NET.20)
declare -A CPUS=([db]=$DB_CPUS [cache]=$CACHE_CPUS [gw1]=$GW_CPUS [gw2]=$GW_CPUS [load]=$LOAD_CPUS)
for host in "${HOSTS[@]}"; do
    ip netns add "$TAG-$host"
    ip link add "v$TAG$host" type veth peer name eth0 netns "$TAG-$host"
    ip link set "v$TAG$host" master "br$TAG" up
    ip -n "$TAG-$host" addr add "${ADDRESS[$host]}/24" dev eth0
    ip -n "$TAG-$host" link set eth0 up
    ip -n "$TAG-$host" link set lo up
    cg_make "$host" "${CPUS[$host]}"
done
log "hosts: db ${ADDRESS[db]} (${DB_CPUS} CPU), cache ${ADDRESS[cache]} (${CACHE_CPUS}), gw1 ${ADDRESS[gw1]} / gw2 ${ADDRESS[gw2]} (${GW_CPUS} each), load ${ADDRESS[load]} (${LOAD_CPUS})"

if [[ -z ${GATEWAY_BIN:-} || -z ${HARNESS_BIN:-} ]]; then
    log "building gateway and harness (release) in $TARGET_DIR"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p gateway -p harness)
fi
GATEWAY_BIN=${GATEWAY_BIN:-$TARGET_DIR/release/gateway}
HARNESS_BIN=${HARNESS_BIN:-$TARGET_DIR/release/harness}

# The database host: a private PostgreSQL cluster (durable settings: fsync and synchronous_commit
# on), listening on its address only; the cache host: Redis.
chmod 755 "$OUT"
mkdir -p "$OUT/pgdata" "$OUT/pgsock"
chown postgres "$OUT/pgdata" "$OUT/pgsock"
runuser -u postgres -- "$PG_BIN/initdb" -D "$OUT/pgdata" --auth=trust -U postgres >"$OUT/initdb.log" 2>&1
cat >>"$OUT/pgdata/postgresql.conf" <<EOF
listen_addresses = '${ADDRESS[db]}'
unix_socket_directories = '$OUT/pgsock'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
EOF
echo "host all all $NET.0/24 trust" >>"$OUT/pgdata/pg_hba.conf"
run_on db runuser -u postgres -- "$PG_BIN/postgres" -D "$OUT/pgdata" >"$OUT/postgres.log" 2>&1
run_on cache redis-server --bind "${ADDRESS[cache]}" --port 6379 --protected-mode no --save "" --appendonly no --logfile "$OUT/redis.log"
for _ in $(seq 1 100); do "$PG_BIN/pg_isready" -q -h "${ADDRESS[db]}" && break; sleep 0.1; done
PSQL=(psql -q -h "${ADDRESS[db]}" -U postgres -d postgres -At)

start_gateway() { # host database
    local host=$1
    run_on "$host" env -i PATH="$PATH" HOST="${ADDRESS[$host]}" PORT=8000 \
        DATABASE_URL="postgres://postgres@${ADDRESS[db]}:5432/$2" REDIS_URL="redis://${ADDRESS[cache]}:6379/0" \
        REDIS_KEY_PREFIX="$2" WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
        WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 \
        DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} RUST_LOG=${RUST_LOG:-warn} \
        "$GATEWAY_BIN" --role "${GATEWAY_ROLE:-all}" >"$OUT/$2-$host.log" 2>&1
    for _ in $(seq 1 600); do
        ip netns exec "$TAG-load" curl -fsS -o /dev/null "http://${ADDRESS[$host]}:8000/readyz" 2>/dev/null && return 0
        sleep 0.1
    done
    log "$host did not become ready (see $OUT/$2-$host.log)"; exit 1
}

snapshot() { # file database: every host's CPU and throttling, PostgreSQL's WAL and commits
    {
        for host in "${HOSTS[@]}"; do echo "cpu_$host $(cg_usage "$host")"; echo "throttled_$host $(cg_throttled "$host")"; done
        echo "wal_bytes $("${PSQL[@]}" -c 'SELECT wal_bytes FROM pg_stat_wal')"
        echo "commits $("${PSQL[@]}" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$2'")"
        echo "at $(date +%s.%N)"
    } >"$1"
}

measure() { # setup gateways...
    local setup=$1; shift
    local database="bench_${setup//-/_}" count=$# share host pids=()
    "${PSQL[@]}" -c "CREATE DATABASE $database" >/dev/null
    for host in "$@"; do start_gateway "$host" "$database"; done
    share=$((CONCURRENCY / count))
    snapshot "$OUT/$setup.before" "$database"
    for host in "$@"; do
        in_host load "$HARNESS_BIN" load --url "http://${ADDRESS[$host]}:8000/integrations/whatsapp/ingest" --token "$TOKEN" \
            --secret "$SECRET" --client-id "bench-$setup-$host" --count $((MAX_MESSAGES / count)) --batch-size "$BATCH" \
            --concurrency "$share" --duration-seconds "$DURATION" --report-file "$OUT/$setup-$host.json" \
            >"$OUT/$setup-$host.out" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    sleep 2 # the fold and checkpoint after the run are part of its cost
    snapshot "$OUT/$setup.after" "$database"
    for host in "$@"; do
        ip netns exec "$TAG-load" curl -fsS "http://${ADDRESS[$host]}:8000/metrics" >"$OUT/$setup-$host.metrics" 2>&1 || true
        grep -q '^soko_redis_fallback 0' "$OUT/$setup-$host.metrics" \
            || log "WARNING: $host reports a Redis fallback, or no metrics (see $OUT/$setup-$host.metrics)"
    done
    # Stop this setup's gateways before the next one starts (the database host stays).
    for pid in "${PIDS[@]:2}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]:2}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=("${PIDS[@]:0:2}")
}

log "1/2: one gateway (gw1)"
measure one gw1
log "2/2: two gateways (gw1, gw2), the same connections split between them"
measure two gw1 gw2

python3 - "$OUT" "$BATCH" "$CONCURRENCY" "$DURATION" "$DB_CPUS" "$GW_CPUS" "$LOAD_CPUS" "$CACHE_CPUS" <<'PY'
import json, os, sys
out, batch, concurrency, duration, db_cpus, gw_cpus, load_cpus, cache_cpus = sys.argv[1:]
db_cpus, gw_cpus, load_cpus, cache_cpus = float(db_cpus), float(gw_cpus), float(load_cpus), float(cache_cpus)
def numbers(name):
    with open(os.path.join(out, name)) as f:
        return {k: float(v) if v else 0.0 for k, v in (line.split(" ", 1) if " " in line else (line.strip(), "") for line in f.read().splitlines())}
def reports(setup, hosts):
    found = []
    for host in hosts:
        try:
            with open(os.path.join(out, f"{setup}-{host}.json")) as f:
                found.append(json.load(f))
        except (OSError, ValueError):
            return None
    return found
print(f"batch {batch}, {concurrency} connections in total, {duration} s per setup;"
      f" CPU caps: db {db_cpus}, cache {cache_cpus}, each gateway {gw_cpus}, load {load_cpus}")
header = (f"{'setup':<6} {'msgs/s':>8} {'p99 ms':>7} {'gw CPU s/1k':>11} {'gw capped':>9} {'db CPU s/1k':>11}"
          f" {'db busy':>7} {'db capped':>9} {'redis CPU s/1k':>14} {'load capped':>11} {'WAL B/msg':>9} {'commits/s':>9}")
print(header); print("-" * len(header))
figures = {}
for setup, hosts in (("one", ["gw1"]), ("two", ["gw1", "gw2"])):
    found = reports(setup, hosts)
    if found is None:
        print(f"{setup:<12} (no report)"); continue
    before, after = numbers(f"{setup}.before"), numbers(f"{setup}.after")
    d = lambda k: after.get(k, 0) - before.get(k, 0)
    created = sum(r["messages"].get("created") or 0 for r in found)
    elapsed = max(r["throughput"].get("elapsed_seconds") or 0 for r in found)
    rate = sum(r["throughput"]["messages_per_second"] or 0 for r in found)
    p99 = max((r["latency_ms"].get("ingest") or {}).get("p99_ms") or 0 for r in found)
    wall = d("at") or elapsed
    gw_cpu = sum(d(f"cpu_{h}") for h in hosts)
    gw_capped = sum(d(f"throttled_{h}") for h in hosts) / len(hosts)
    db_cpu = d("cpu_db")
    per = lambda v: v * 1000 / created if created else float("nan")
    pct = lambda v: v / wall * 100 if wall else 0
    figures[setup] = {"rate": rate, "gw": gw_cpu / created if created else None, "db": db_cpu / created if created else None}
    print(f"{setup:<6} {rate:>8,.0f} {p99:>7.1f} {per(gw_cpu):>11.3f} {pct(gw_capped):>8.0f}%"
          f" {per(db_cpu):>11.3f} {pct(db_cpu) / db_cpus:>6.0f}% {pct(d('throttled_db')):>8.0f}% {per(d('cpu_cache')):>14.3f}"
          f" {pct(d('throttled_load')):>10.0f}% {d('wal_bytes') / created if created else 0:>9,.0f} {d('commits') / elapsed if elapsed else 0:>9,.0f}")
if "one" in figures and "two" in figures and figures["one"]["rate"]:
    print(f"two gateways against one: {figures['two']['rate'] / figures['one']['rate']:.2f}x")
print("(capped = share of the wall time, from the snapshot before the run to 2 s after it, that a host's cgroup"
      " spent throttled by its CPU cap; db busy = its CPU use against its cap; gw CPU per 1,000 messages summed over"
      " the gateways; WAL from pg_stat_wal, commits from pg_stat_database)")
for setup, label in (("one", "one-gateway"), ("two", "two-gateway")):
    f = figures.get(setup)
    if not (f and f["gw"] and f["db"]):
        continue
    gw_rate, db_rate = gw_cpus / f["gw"], db_cpus / f["db"]
    print(f"\nprojection from the {label} run's costs: a gateway host of {gw_cpus} CPU carries {gw_rate:,.0f} msgs/s,"
          f" this primary ({db_cpus} CPU) {db_rate:,.0f} msgs/s, {1000 / (f['db'] * 1000) / 1000:,.1f}k msgs/s per primary core")
    for n in (1, 2, 4, 8):
        print(f"  {n:>2} gateways: {min(n * gw_rate, db_rate):>9,.0f} msgs/s" + ("  (the primary's ceiling)" if n * gw_rate >= db_rate else ""))
PY
log "reports: $OUT"
