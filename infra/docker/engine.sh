#!/usr/bin/env bash
# The container engine for the compose lab: Debian's docker.io + docker-compose.
#
#   bash infra/docker/engine.sh install   install docker.io docker-compose debootstrap if missing
#   bash infra/docker/engine.sh start     start dockerd unless one answers (implies install)
#   bash infra/docker/engine.sh restart-ours  restart the dockerd that `start` started (never another)
#
# Safety: the lab must not change the host's root namespace (routes,
# addresses, firewall, sysctls) beyond what the engine itself does, so dockerd
# runs with --iptables=false --ip-masq=false (no NAT or filter rules),
# --ip-forward=false (the host's net.ipv4.ip_forward stays as it is) and
# --bridge=none (no default docker0 bridge; compose networks are the only
# bridges, see docs/architecture.md "The compose lab"). An engine that is
# already running is used as it is: it is not ours to restart.
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

DOCKERD_LOG=${STRATA_DOCKERD_LOG:-/var/log/strata-dockerd.log}
DOCKERD_PIDFILE=${STRATA_DOCKERD_PIDFILE:-/run/strata-dockerd.pid}

install_engine() {
  local missing=() p
  for p in docker.io docker-compose debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then say "container engine packages present"; return; fi
  say "installing ${missing[*]} (Debian packages)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
  install_engine
  if engine_answers; then say "docker engine running"; return; fi
  say "starting dockerd (log: $DOCKERD_LOG; flags: --iptables=false --ip-masq=false --ip-forward=false --bridge=none)"
  # setsid: the engine outlives this shell and its terminal; the PID file is how it is stopped.
  $SUDO setsid /usr/sbin/dockerd --iptables=false --ip-masq=false --ip-forward=false --bridge=none \
    --pidfile "$DOCKERD_PIDFILE" >>"$DOCKERD_LOG" 2>&1 < /dev/null &
  local i
  for i in $(seq 1 60); do
    engine_answers && { say "docker engine up (pid $(cat "$DOCKERD_PIDFILE" 2>/dev/null || echo '?'))"; return; }
    sleep 0.5
  done
  echo "error: dockerd did not answer within 30 s; last lines of $DOCKERD_LOG:" >&2
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  exit 1
}

# Restart the engine only if it is the one start_engine started (its PID file names a live dockerd):
# an engine somebody else runs is not ours to restart. Exit 3 when it is not ours.
restart_ours() {
  local pid i
  pid=$(cat "$DOCKERD_PIDFILE" 2>/dev/null || true)
  if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
    say "the running docker engine was not started by this script: not restarting it"
    exit 3
  fi
  say "restarting dockerd (pid $pid), which this script started"
  $SUDO kill "$pid"
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  start_engine
}

case "${1:-}" in
  install) install_engine ;;
  start) start_engine ;;
  restart-ours) restart_ours ;;
  *) echo "usage: $0 install|start|restart-ours" >&2; exit 2 ;;
esac
