#!/usr/bin/env bash
# A class on this machine: a Dask scheduler, its workers, Streamlit replicas sharing one STUDIO_DATA_DIR, and
# HAProxy in front with sticky sessions (deploy/haproxy.cfg). Ctrl-C (or any exit) stops all of it.
#
#   make class                                  # http://127.0.0.1:8500
#   PROXY_ADDRESS=0.0.0.0 REPLICAS=3 WORKERS=4 deploy/class.sh
#
# Settings (environment): PROXY_ADDRESS (127.0.0.1), PROXY_PORT (8500), REPLICAS (2, on ports 8601, 8602...)
# or REPLICA_PORTS ("8601 8602"), WORKERS (2), SCHEDULER_PORT (8786), MNIST_DIR, STUDIO_DATA_DIR (data/),
# CLASS_RUN_DIR (a fresh temporary folder: the generated haproxy.cfg, logs, one .pid file per process).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=${BIN:-$repo/.venv/bin}
proxy_address=${PROXY_ADDRESS:-127.0.0.1}
proxy_port=${PROXY_PORT:-8500}
replica_ports=(${REPLICA_PORTS:-$(seq 8601 $((8600 + ${REPLICAS:-2})))})
workers=${WORKERS:-2}
scheduler_port=${SCHEDULER_PORT:-8786}
run_dir=${CLASS_RUN_DIR:-$(mktemp -d -t studio-class.XXXXXX)}
mkdir -p "$run_dir"

command -v haproxy >/dev/null || { echo "HAProxy is not installed: sudo apt-get install -y haproxy" >&2; exit 1; }
[ -x "$bin/streamlit" ] || { echo "No $bin/streamlit: run 'make run' once to create .venv" >&2; exit 1; }

# Every piece sees the same data: one workspace store for all replicas, MNIST for replicas and workers alike.
export STUDIO_DATA_DIR=$(realpath -m "${STUDIO_DATA_DIR:-$repo/data}")
[ -n "${MNIST_DIR:-}" ] && export MNIST_DIR=$(realpath -m "$MNIST_DIR")
export DASK_SCHEDULER_ADDRESS="tcp://127.0.0.1:$scheduler_port"
# Dask's debugging logs keep their last N messages whole, each job's spec among them: short, as the embedded
# engine's (service/engine.py LOG_LENGTH), for the scheduler, the workers and the replicas' clients.
export DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH=${DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH:-50}
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"  # workers unpickle the trainer actor from service/
# One cookie secret for every replica: Streamlit's XSRF token, signed by one replica, is accepted by the next.
export STREAMLIT_SERVER_COOKIE_SECRET=${STREAMLIT_SERVER_COOKIE_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
mkdir -p "$STUDIO_DATA_DIR"

pids=()
stop_all() {
  trap - EXIT INT TERM
  # The proxy first, then the replicas (their Dask clients let go of their runs), the workers, the scheduler.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "Class stopped." >&2
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start() {  # start NAME COMMAND...: in the background, logged to $run_dir/NAME.log, pid in NAME.pid
  local name=$1; shift
  "$@" >"$run_dir/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$run_dir/$name.pid"
}

start scheduler "$bin/dask" scheduler --host 127.0.0.1 --port "$scheduler_port" --no-dashboard
for i in $(seq 1 "$workers"); do
  start "worker-$i" "$bin/dask" worker "$DASK_SCHEDULER_ADDRESS" --name "worker-$i" --nthreads 1 \
    --host 127.0.0.1 --no-dashboard
done

config="$run_dir/haproxy.cfg"
cp deploy/haproxy.cfg "$config"
for i in "${!replica_ports[@]}"; do
  port=${replica_ports[i]}
  start "replica-$((i + 1))" "$bin/streamlit" run app.py --server.address 127.0.0.1 --server.port "$port" \
    --server.headless true
  echo "    server r$((i + 1)) 127.0.0.1:$port check cookie r$((i + 1))" >>"$config"
done

export STUDIO_PROXY_ADDRESS=$proxy_address STUDIO_PROXY_PORT=$proxy_port
haproxy -c -q -f "$config"
start haproxy haproxy -db -f "$config"

ready() {  # ready URL: waits up to 2 minutes for a 200
  for _ in $(seq 1 240); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "No answer from $1 after 2 minutes; see the logs in $run_dir" >&2
  return 1
}
for port in "${replica_ports[@]}"; do ready "http://127.0.0.1:$port/_stcore/health"; done
# HAProxy counts a replica in after two passed checks (`rise 2`): until then the class would get a 503.
for _ in "${replica_ports[@]}"; do ready "http://127.0.0.1:$proxy_port/_stcore/health"; done
sleep 4
echo "Class ready: http://$proxy_address:$proxy_port (${#replica_ports[@]} replicas, $workers workers; logs in $run_dir)"
echo "ready" >"$run_dir/ready"
wait  # until Ctrl-C; a piece that dies is left dead (HAProxy routes around a replica), the rest keep serving
