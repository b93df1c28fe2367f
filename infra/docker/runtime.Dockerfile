# Strata's runtime image: the system image + Node.js + the built workspace
# (services, cli, infra, node_modules), as `npm ci && npm run build` left it
# on the host. Context: the repository root (see /.dockerignore).
#
# Node.js: Debian bookworm ships Node 18 and no registry is reachable, so the
# host's own `node` (20+, the one that built the workspace) is copied in by
# infra/docker/build.sh to infra/docker/.build/node. It needs only glibc and
# libstdc++, which the system image has.
ARG SYSTEM=strata/lab-system:latest
FROM ${SYSTEM}
COPY infra/docker/.build/node /usr/local/bin/node
WORKDIR /opt/strata
COPY . /opt/strata/
ENV PATH=/opt/strata/infra/docker/bin:$PATH NODE_ENV=production
RUN node --version && test -f services/agent/dist/main.js && test -f infra/docker/dist/vm/main.js
