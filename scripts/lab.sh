#!/usr/bin/env bash
# The compose lab (docker-compose.yml; decisions in docs/architecture.md).
#
#   bash scripts/lab.sh up [--no-demo]   set up, build the images, start the lab, run the demo
#   bash scripts/lab.sh demo             run the demo job again (idempotent)
#   bash scripts/lab.sh status           containers and their health
#   bash scripts/lab.sh dataplane        each hypervisor's data plane as text (to compare runs)
#   bash scripts/lab.sh ca               print the lab's CA certificate (PEM; `up` also saves it, see below)
#   bash scripts/lab.sh down [--volumes] remove containers and networks (--volumes: the event log and the CA too)
#
# COMPOSE_PROJECT_NAME names the lab (default: strata); STRATA_LAB_SKIP_SETUP=1
# skips scripts/setup.sh (packages, npm ci, build) when it has just run.
# Other settings (addresses, port, passwords, tokens) are the variables in
# docker-compose.yml. Every control connection is TLS with the lab's own CA
# (the pki job makes it at the first `up`); `up` saves its certificate to
# .lab/<project>/ca.crt, for the CLI on the host (STRATA_CA).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-strata}
compose() { docker-compose -f docker-compose.yml "$@"; }
HYPERVISORS=(hv1 hv2 hv3)
CA_FILE=.lab/$COMPOSE_PROJECT_NAME/ca.crt

# The lab's CA certificate, from its volume (the pki job's container, whatever else is up).
print_ca() { compose run --rm --no-deps -T pki cat /etc/strata-tls/ca/ca.crt; }
save_ca() {
  mkdir -p "$(dirname "$CA_FILE")"
  print_ca > "$CA_FILE.new" && mv "$CA_FILE.new" "$CA_FILE"
}

run_demo() {
  say "running the demo job"
  # --no-deps: the lab is up; a service someone stopped (a NATS node, to see the
  # cluster carry on without it) stays stopped rather than being started for the demo.
  compose run --rm --no-deps demo
}

# The demo runs once as part of `up`: wait for it and show what it printed.
wait_for_demo() {
  local id code
  id=$(compose ps -q demo)
  [ -n "$id" ] || { echo "error: the demo container was not created" >&2; return 1; }
  say "demo running (docker-compose logs -f demo to follow)"
  code=$(timeout "${STRATA_LAB_DEMO_TIMEOUT:-900}" docker wait "$id") || { echo "error: the demo did not finish in time" >&2; return 1; }
  compose logs --no-color --no-log-prefix demo 2>/dev/null || compose logs --no-color demo
  [ "$code" = 0 ] || { echo "error: the demo failed (exit $code)" >&2; return 1; }
}

# Endpoints still attached to the project's networks once its containers are gone.
release_stale_endpoints() {
  local net endpoint
  for net in $(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
    for endpoint in $(docker network inspect -f '{{range $id, $c := .Containers}}{{$c.Name}} {{end}}' "$net"); do
      say "disconnecting stale endpoint $endpoint from network $net"
      docker network disconnect -f "$net" "$endpoint" || true
    done
  done
}

next_steps() {
  local port=${STRATA_LAB_API_PORT:-7443}
  cat <<EOF

$(say "the lab is up (project $COMPOSE_PROJECT_NAME); try:")
  # the strata CLI from the host, against the lab's API (127.0.0.1:$port), over TLS verified with the lab's CA
  export STRATA_CA=$PWD/$CA_FILE STRATA_SERVER=127.0.0.1:$port STRATA_TOKEN=${STRATA_LAB_TENANT_A_TOKEN:-lab-tenant-a-token}   # tenant-a
  node cli/dist/main.js port list
  node cli/dist/main.js events tail
  # admin token: ${STRATA_LAB_ADMIN_TOKEN:-lab-admin-token}; tenant-b: ${STRATA_LAB_TENANT_B_TOKEN:-lab-tenant-b-token}

  # or inside the lab
  docker-compose -p $COMPOSE_PROJECT_NAME exec -e STRATA_TOKEN=${STRATA_LAB_ADMIN_TOKEN:-lab-admin-token} api strata hypervisor list
  # VMs are namespaces in the hypervisor containers (strata-vm: the lab's compute stand-in)
  docker-compose -p $COMPOSE_PROJECT_NAME exec hv1 strata-vm list
  docker-compose -p $COMPOSE_PROJECT_NAME exec hv1 strata-vm exec a-w1 ping -c 3 10.0.1.22
  docker-compose -p $COMPOSE_PROJECT_NAME exec hv1 strata-vm connect a-w1 10.0.1.31 5432     # web -> db: refused by the security groups
  docker-compose -p $COMPOSE_PROJECT_NAME exec hv1 nft list table inet strata
  # the stock openstack CLI (Keystone, Strata's Neutron API), in the keystone container
  docker-compose -p $COMPOSE_PROJECT_NAME exec keystone openstack --os-cloud demo network list
  docker-compose -p $COMPOSE_PROJECT_NAME exec keystone openstack --os-cloud demo port list --long

  bash scripts/lab.sh demo            # run the demo again
  bash scripts/lab.sh down            # stop (the event log stays in a volume; add --volumes to drop it)
EOF
}

case "${1:-}" in
  up)
    [ "${STRATA_LAB_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
    bash infra/docker/engine.sh start
    say "building the images"
    bash infra/docker/build.sh
    compose rm -fsv demo >/dev/null 2>&1 || true # a fresh one-shot demo each time
    say "starting the lab (project $COMPOSE_PROJECT_NAME)"
    if [ "${2:-}" = --no-demo ]; then
      compose up -d --scale demo=0
      save_ca
    else
      compose up -d
      save_ca
      wait_for_demo
    fi
    next_steps
    ;;
  demo) run_demo ;;
  status) compose ps ;;
  ca) print_ca ;;
  dataplane)
    for hv in "${HYPERVISORS[@]}"; do
      echo "### $hv"
      compose exec -T "$hv" lab-dataplane
    done
    ;;
  down)
    flags=(--remove-orphans)
    [ "${2:-}" = --volumes ] && flags+=(--volumes)
    say "removing the lab's containers and networks${flags[1]:+ and volumes} (project $COMPOSE_PROJECT_NAME)"
    # VMs and routing domains are namespaces inside the hypervisor containers: they go with them.
    # Docker 20.10 may keep an endpoint of a removed container on a network ("has active
    # endpoints"), and then never releases it by itself: down is idempotent, so after a failure
    # force the project's leftover endpoints off its networks and try again.
    # The Kafka export lives in the kafka container's network namespace (network_mode): remove
    # it first, so the broker's endpoint goes with the broker.
    compose rm -f -s -v kafka-exporter >/dev/null 2>&1 || true
    # An endpoint that names no container is out of reach of `network disconnect` (seen after the
    # lab's node-loss step: `docker network inspect` lists no container, yet the network "has active
    # endpoints"); the engine forgets it when it restarts. So the last attempt comes after a restart
    # of the engine, if it is the one engine.sh started, and never of anybody else's.
    for attempt in 1 2 3 4; do
      compose down "${flags[@]}" && break
      [ "$attempt" -lt 4 ] || exit 1
      if [ "$attempt" -lt 3 ]; then
        say "compose down failed (attempt $attempt); releasing stale endpoints, trying again in 5 s"
        release_stale_endpoints
        sleep 5
      else
        say "compose down failed (attempt $attempt); the networks keep endpoints of no container"
        bash infra/docker/engine.sh restart-ours || exit 1
      fi
    done
    # The CA went with its volume: the copy on the host names nothing any more.
    [ "${2:-}" != --volumes ] || rm -rf ".lab/$COMPOSE_PROJECT_NAME"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
