#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian (bookworm) machine: system packages,
# npm dependencies, build. Sourced by scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Real components the services and tests run against (see docs/architecture.md).
APT_PACKAGES=(
  nats-server            # NATS + JetStream: the event log and the message bus
  iproute2 nftables      # the agent's data plane tools
  python3-nftables       # libnftables binding: the agent's long-lived nft worker (kernel/nft-worker.ts)
  gobgpd golang-github-osrg-gobgp-dev   # BGP engine + its .proto files
  frr                    # ToR/border routers in tests and the lab
  exabgp                 # a scripted (flapping, hostile) BGP appliance in test/hostile
  iperf3 tcpdump iputils-ping dnsmasq-base procps
  busybox                # udhcpc: the DHCP client of the test VMs
  isc-dhcp-client        # dhclient -6: the DHCPv6 client of the test VMs (all its state in files named on its command line)
  iputils-arping keepalived   # gratuitous ARPs and VRRP inside test VMs (allowed address pairs, appliance failover)
  postgresql             # audit read model
  librdkafka-dev gcc     # the Kafka-protocol test broker: librdkafka's mock cluster, built by libs/testing (kafka-mock/)
  ca-certificates curl git
  keystone uwsgi uwsgi-plugin-python3   # OpenStack identity: the tests and the lab run a real Keystone (libs/testing/src/keystone.ts)
  python3-openstackclient python3-neutronclient   # the stock `openstack` CLI (and its `openstack sfc` plugin) against the Neutron API
  python3-networking-sfc # neutronclient's extension for `openstack sfc …`: without it the plugin's name lookups fail ('Client' object has no attribute 'list_port_pairs')
  openssl                # makePki: the tests' private CAs and certificates (libs/testing/src/pki.ts)
  ethtool                # the OVSDB emulator test: its hypervisors' underlay veths checksum VXLAN themselves (test/l2gw/ovsdb-emulator.e2e.spec.ts)
  openvswitch-switch openvswitch-vtep   # ovsdb-server with the hardware_vtep schema, and the ovs-vtep emulator as the switch (services/vtep tests; the tests start their own, never the distro's service)
  prometheus             # promtool: the compose lab's scrape configuration and alert rules are checked and unit-tested (infra/prometheus)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Keystone's package would configure a database, an admin tenant and an
  # endpoint of its own: the tests bootstrap their own Keystone instead.
  printf '%s\n' \
    'keystone keystone/configure_db boolean false' \
    'keystone keystone/create-admin-tenant boolean false' \
    'keystone keystone/register-endpoint boolean false' | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages present"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is needed (found: ${node_major}); trying Debian's nodejs"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null || true
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    echo "error: Node.js ${node_major} is too old; install Node.js 20+ (e.g. from NodeSource or nvm) and run again" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm dependencies up to date"
fi

say "building (protobuf types, TypeScript)"
npm run build --silent

# The compose lab (scripts/lab.sh, test/lab): Debian's docker.io, docker-compose
# and debootstrap, and a running engine (started with the lab's safe flags
# when none answers; see infra/docker/engine.sh).
bash infra/docker/engine.sh start
