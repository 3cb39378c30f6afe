#!/usr/bin/env bash
# Starts coturn (Debian package "coturn") in the foreground with turn/turnserver.conf.template.
#   LISTEN_IP, RELAY_IP (default: LISTEN_IP), PORT (3478), REALM (conduit.local),
#   SECRET (required: the ServerDescriptor turn.secret), ALLOWED_PEERS (dev only: "a.b.c.d-e.f.g.h ...")
set -euo pipefail
command -v turnserver >/dev/null || { echo "coturn not found: apt-get install coturn" >&2; exit 1; }
: "${LISTEN_IP:?set LISTEN_IP}" "${SECRET:?set SECRET}"
RELAY_IP=${RELAY_IP:-$LISTEN_IP}
PORT=${PORT:-3478}
REALM=${REALM:-conduit.local}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
PIDFILE="$dir/turnserver.pid"
ALLOWED=""
for range in ${ALLOWED_PEERS:-}; do ALLOWED+="allowed-peer-ip=$range"$'\n'; done
export LISTEN_IP RELAY_IP PORT REALM SECRET PIDFILE
sed -e "s|\${LISTEN_IP}|$LISTEN_IP|" -e "s|\${RELAY_IP}|$RELAY_IP|" -e "s|\${PORT}|$PORT|" \
  -e "s|\${REALM}|$REALM|" -e "s|\${SECRET}|$SECRET|" -e "s|\${PIDFILE}|$PIDFILE|" \
  "$(dirname "$0")/turnserver.conf.template" | awk -v allowed="$ALLOWED" '{ if ($0 == "${ALLOWED_PEERS}") printf "%s", allowed; else print }' > "$dir/turnserver.conf"
exec turnserver -c "$dir/turnserver.conf"
