# The lab's system image: Debian bookworm + every Debian package a lab
# container runs (one apt layer, shared by all images and cached). Used as is
# by postgres, border (FRR) and client; runtime.Dockerfile adds Node.js and
# Strata on top. Context: infra/docker. Built by infra/docker/build.sh with
# --network=host: the engine runs without NAT (docs/architecture.md), so build
# steps reach the apt mirror through the host's own network.
ARG BASE=strata/debian-base:bookworm
FROM ${BASE}

# No daemon may start at package installation (there is no init system here).
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/strata.conf

# Agents (data plane), NATS, FRR, PostgreSQL, gobgpd + its .proto files (for
# the BGP gateway), VM tooling (busybox: nc and udhcpc), diagnostics, and
# libstdc++ for the Node.js binary of runtime.Dockerfile.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      iproute2 nftables python3-nftables dnsmasq-base busybox procps iputils-ping tcpdump iperf3 conntrack \
      nats-server frr postgresql gobgpd golang-github-osrg-gobgp-dev \
      libstdc++6 ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*

COPY bin/ /usr/local/bin/
