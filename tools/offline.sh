#!/usr/bin/env bash
# Run a command with no network but loopback, to show that nothing in it reads the
# network (Jupyter kernels still talk over 127.0.0.1). Needs Linux network namespaces
# (root, as in CI); elsewhere the command runs as it is, with a note on stderr.
if unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
  export SERIES_OFFLINE=1
  exec unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
echo "offline.sh: no network namespaces here; running with the network" >&2
exec "$@"
