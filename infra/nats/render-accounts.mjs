#!/usr/bin/env node
/**
 * Renders Strata's NATS accounts config (users and their permissions) to
 * stdout. Plain Node, no build step, no dependencies.
 *
 *   node infra/nats/render-accounts.mjs > infra/nats/accounts.conf        (checked in: no agents)
 *   node infra/nats/render-accounts.mjs --agents hv1,hv2 > accounts.conf   (a deployment's hypervisors)
 *
 * Why a script: NATS config has no list concatenation or templates, so every
 * user's list is written out in full, and there is one user per hypervisor.
 * Passwords are never in the output: each user's password is a variable that
 * nats-server reads from its environment (STRATA_NATS_<USER>_PASSWORD;
 * agents: STRATA_NATS_AGENT_<HOST>_PASSWORD, host upper-cased, '-' -> '_').
 * Adding a hypervisor means rendering again and reloading nats-server.
 *
 * NATS wildcards match whole subject tokens only ("KV_strata-hostview-*" is
 * a literal, not a pattern), and a stream name is one token. So every grant
 * below names its stream: no user but admin may create, update or delete any
 * stream (a user that can create a stream can capture any subject, e.g. the
 * command bus). The operator creates them all (infra/lab/src/provision.ts:
 * the event log, each service's snapshot bucket, each host's view bucket).
 *
 * Consumers of the event log: readers use ordered consumers with random
 * names, so they may create, pull from and delete consumers of the stream
 * by any name, except the durables of the reactors (secgroup-port-reactor,
 * nat-reactor, chaining-reactor) and of the Kafka export (kafka-exporter),
 * which are denied to every user but their owner.
 *
 * Names below must match the code: the event stream and snapshot buckets
 * (libs/eventlog), the host-view buckets (libs/contracts/src/hostview.ts).
 * test/nats/accounts.unit.spec.ts checks they do, and that the checked-in
 * accounts.conf is this script's output.
 */

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const EVENTS = 'STRATA_EVENTS';
/** snapshotBucket() in libs/eventlog/src/snapshots.ts: one object store bucket per service. */
const snapshotBucket = (service) => `strata-snapshots-${service}`;
const HOSTVIEW_BUCKET_PREFIX = 'strata-hostview-';
/** HOSTVIEW_LEASE_BUCKET in libs/contracts/src/hostview.ts: hostview's partition leases. */
const HOSTVIEW_LEASE_BUCKET = 'strata_hostview_leases';
const SECGROUP_REACTOR = 'secgroup-port-reactor';
const NAT_REACTOR = 'nat-reactor';
const CHAINING_REACTOR = 'chaining-reactor';
/** KAFKA_EXPORT_DURABLE in services/kafka-exporter/src/service.ts. */
const KAFKA_EXPORT = 'kafka-exporter';
/** The PostgreSQL read model's durable consumer (services/pg-projector PG_PROJECTOR_DURABLE). */
const PG_PROJECTOR = 'pg-projector';
/** Each reactor's durable consumer and the one user that may use it. */
const DURABLES = [
  { durable: SECGROUP_REACTOR, owner: 'secgroup' },
  { durable: NAT_REACTOR, owner: 'nat' },
  { durable: CHAINING_REACTOR, owner: 'chaining' },
  { durable: KAFKA_EXPORT, owner: 'kafka-exporter' },
  { durable: PG_PROJECTOR, owner: 'pg-projector' },
];
/** HostId in libs/contracts/src/common.ts. */
const HOST_ID = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;

/** What must stay impossible for every service user (libs/eventlog protectedApiSubjects). */
const protectedEventSubjects = [
  `$JS.API.STREAM.DELETE.${EVENTS}`,
  `$JS.API.STREAM.PURGE.${EVENTS}`,
  `$JS.API.STREAM.MSG.DELETE.${EVENTS}`,
  `$JS.API.STREAM.UPDATE.${EVENTS}`,
];

/**
 * Reading the event log: stream info, direct gets, and ordered consumers
 * (nats.js 2.29: pull consumers named <random>_<n>, acknowledgement none,
 * created with a name and a filter, deleted when the reader stops). No
 * $JS.ACK and no flow control: nothing a reader runs needs them.
 */
const eventReader = [
  '$JS.API.INFO',
  `$JS.API.STREAM.INFO.${EVENTS}`,
  `$JS.API.STREAM.MSG.GET.${EVENTS}`,
  `$JS.API.DIRECT.GET.${EVENTS}`,
  `$JS.API.DIRECT.GET.${EVENTS}.>`,
  `$JS.API.CONSUMER.CREATE.${EVENTS}.>`,
  `$JS.API.CONSUMER.DELETE.${EVENTS}.*`,
  `$JS.API.CONSUMER.INFO.${EVENTS}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.*`,
];

/** Everything that touches a reactor's durable consumer: only its owner may. */
const durableSubjects = (durable) => [
  `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS}.${durable}`,
  `$JS.API.CONSUMER.CREATE.${EVENTS}.${durable}`,
  `$JS.API.CONSUMER.CREATE.${EVENTS}.${durable}.>`,
  `$JS.API.CONSUMER.INFO.${EVENTS}.${durable}`,
  `$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.${durable}`,
  `$JS.API.CONSUMER.DELETE.${EVENTS}.${durable}`,
  `$JS.ACK.${EVENTS}.${durable}.>`,
];

/** Denied to `user`: the durables of every other service. */
const othersDurables = (user) => DURABLES.filter((d) => d.owner !== user).flatMap((d) => durableSubjects(d.durable));

/**
 * A service's own snapshot bucket (created by the operator): read an object's
 * info, put (chunks, then the purge of the old ones), and read it back with
 * an ordered consumer bound to the stream by name.
 */
const snapshotStore = (service) => {
  const bucket = snapshotBucket(service);
  const stream = `OBJ_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.STREAM.PURGE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$O.${bucket}.>`,
  ];
};

/**
 * A command-serving service that owns an event context: reads the log,
 * keeps its own snapshots, appends its own events, answers its own commands
 * and queries; its reactor's durable consumer if it has one.
 */
function owningService(name, { snapshots = true } = {}) {
  const own = DURABLES.filter((d) => d.owner === name).flatMap((d) => durableSubjects(d.durable));
  return {
    publish: [...eventReader, ...(snapshots ? snapshotStore(name) : []), `strata.evt.${name}.>`, ...own, `_INBOX_${name}.>`],
    publishDeny: [...protectedEventSubjects, ...othersDurables(name)],
    subscribe: [`strata.cmd.${name}.>`, `strata.qry.${name}.>`, `_INBOX_${name}.>`],
    allowResponses: true,
  };
}

/** A user's permissions with more subjects it may subscribe to. */
const withSubscribe = (user, subjects) => ({ ...user, subscribe: [...user.subscribe, ...subjects] });
/** A user's permissions with more subjects it may publish on. */
const withPublish = (user, subjects) => ({ ...user, publish: [...user.publish, ...subjects] });

/** Watching a host's view bucket (nats.js KV watch: an ordered push consumer): stream info, consumers, flow control. */
const hostviewBucketWatcher = (host) => {
  const stream = hostviewStream(host);
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
};

/** A host's view bucket as hostview writes it: put/delete, and read back with a watch. */
const hostviewBucketWriter = (host) => [...hostviewBucketWatcher(host), `$KV.${HOSTVIEW_BUCKET_PREFIX}${host}.>`];

/** The lease bucket as hostview uses it: read a key (get), write it with an expected revision (put, delete). */
const hostviewLeases = () => {
  const stream = `KV_${HOSTVIEW_LEASE_BUCKET}`;
  return [`$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.MSG.GET.${stream}`, `$JS.API.DIRECT.GET.${stream}.>`, `$KV.${HOSTVIEW_LEASE_BUCKET}.>`];
};

/** The status service's question to every hostview instance (libs/contracts/src/status/hostview-query.ts). */
const HOSTVIEW_POSITIONS = 'strata.qry.hostview.positions';
/** The audit service's question to hostview: a host's view at a past position (libs/contracts/src/audit/hostview-at.ts). */
const HOSTVIEW_AT = 'strata.qry.hostview.at';
const hostviewStream = (host) => `KV_${HOSTVIEW_BUCKET_PREFIX}${host}`;
const agentUser = (host) => `agent-${host}`;
const agentPasswordVar = (host) => `STRATA_NATS_AGENT_${host.toUpperCase().replaceAll('-', '_')}_PASSWORD`;

function users(agents) {
  const list = [
    {
      comment: ['Operators: stream administration, and the only user that creates streams (infra/lab/src/provision.ts).'],
      user: 'admin',
      passwordVar: 'STRATA_NATS_ADMIN_PASSWORD',
    },
    {
      comment: [
        'IPAM: writes only its own events (strata.evt.ipam.>), answers only its',
        `own commands and queries, keeps snapshots in its own bucket (${snapshotBucket('ipam')}).`,
        'Hears agents\' GARP reports (strata.status.*.garp): the owners of allowed address pairs;',
        'and gateway hosts\' learned MACs (strata.status.*.l2gw-macs).',
      ],
      user: 'ipam',
      passwordVar: 'STRATA_NATS_IPAM_PASSWORD',
      ...withSubscribe(owningService('ipam'), ['strata.status.*.garp', 'strata.status.*.l2gw-macs']),
    },
    {
      comment: [
        'The api forwards commands and queries (signed with its key: services refuse',
        'unsigned ones) and reads the log (Watch); it writes no event. It hears the',
        'status changes (strata.realised.>) its WatchStatus streams, scoped per tenant.',
      ],
      user: 'api',
      passwordVar: 'STRATA_NATS_API_PASSWORD',
      publish: [...eventReader, 'strata.cmd.>', 'strata.qry.>', '_INBOX_api.>'],
      publishDeny: [...protectedEventSubjects, ...othersDurables('api'), HOSTVIEW_AT],
      subscribe: ['_INBOX_api.>', 'strata.realised.>'],
    },
    {
      comment: [
        'The Neutron REST service: a second front door like the api (Keystone identities',
        'instead of API tokens), forwarding signed commands and queries and reading the',
        'log; it writes no event. It streams nothing, so it does not hear strata.realised.>.',
      ],
      user: 'neutron',
      passwordVar: 'STRATA_NATS_NEUTRON_PASSWORD',
      publish: [...eventReader, 'strata.cmd.>', 'strata.qry.>', '_INBOX_neutron.>'],
      publishDeny: [...protectedEventSubjects, ...othersDurables('neutron'), HOSTVIEW_AT],
      subscribe: ['_INBOX_neutron.>'],
    },
    {
      comment: [
        'Security groups: like IPAM for its own context (strata.evt.secgroup.>), plus',
        `the durable pull consumer ${SECGROUP_REACTOR} on ${EVENTS} (create, info, next, ack, delete),`,
        'which every other user is denied.',
      ],
      user: 'secgroup',
      passwordVar: 'STRATA_NATS_SECGROUP_PASSWORD',
      ...owningService('secgroup'),
    },
    {
      comment: [
        'NAT (floating IP associations, router gateways): like secgroup for its own',
        `context (strata.evt.nat.>), with its reactor's durable consumer ${NAT_REACTOR}.`,
      ],
      user: 'nat',
      passwordVar: 'STRATA_NATS_NAT_PASSWORD',
      ...owningService('nat'),
    },
    {
      comment: [
        'Service chaining: like nat for its own context (strata.evt.chaining.>), with its',
        `reactor's durable consumer ${CHAINING_REACTOR}; it also hears every agent's health`,
        'reports (strata.status.*.health: the subject names the reporting host).',
      ],
      user: 'chaining',
      passwordVar: 'STRATA_NATS_CHAINING_PASSWORD',
      ...withSubscribe(owningService('chaining'), ['strata.status.*.health']),
    },
    {
      comment: [
        'Realisation status: like chaining for its own context (strata.evt.status.>: agents\' liveness),',
        'without a reactor. It hears agents\' reports and heartbeats (strata.status.<host> and',
        '.heartbeat: the subject names the reporter), asks an agent for its full report',
        '(strata.agentctl.<host>.report), asks every hostview partition for its positions and',
        'publishes status changes (strata.realised.>). It publishes nothing an agent does.',
      ],
      user: 'status',
      passwordVar: 'STRATA_NATS_STATUS_PASSWORD',
      ...withPublish(withSubscribe(owningService('status'), ['strata.status.*', 'strata.status.*.heartbeat']), [
        'strata.agentctl.*.report',
        'strata.qry.hostview.positions',
        'strata.realised.>',
      ]),
    },
    {
      comment: [
        'Audit: reads the log (its catalogue of resources, points in the log), keeps its snapshots',
        `(${snapshotBucket('audit')}), answers its own queries (strata.qry.audit.>, signed by the api)`,
        `and is the only user that asks hostview for a host's past view (${HOSTVIEW_AT}). It writes no event.`,
      ],
      user: 'audit',
      passwordVar: 'STRATA_NATS_AUDIT_PASSWORD',
      publish: [...eventReader, ...snapshotStore('audit'), HOSTVIEW_AT, '_INBOX_audit.>'],
      publishDeny: [...protectedEventSubjects, ...othersDurables('audit'), 'strata.evt.>'],
      subscribe: ['strata.qry.audit.>', '_INBOX_audit.>'],
      allowResponses: true,
    },
    {
      comment: [
        'BGP gateway: like IPAM for its own context (strata.evt.bgp.>): configuration',
        'events, the routes appliances announce and the MACs and VTEPs EVPN switches',
        'announce (strata.evt.bgp.physical.*). It follows IPAM and NAT through the log.',
        'It keeps no snapshots.',
      ],
      user: 'bgp',
      passwordVar: 'STRATA_NATS_BGP_PASSWORD',
      ...owningService('bgp', { snapshots: false }),
    },
    {
      comment: [
        'The vtep controller: like the BGP gateway for its own context (strata.evt.vtep.>):',
        'the MACs and flood VTEPs ovsdb gateway devices report. It follows IPAM through the',
        'log, drives the devices over OVSDB (not NATS) and keeps no snapshots.',
      ],
      user: 'vtep',
      passwordVar: 'STRATA_NATS_VTEP_PASSWORD',
      ...owningService('vtep', { snapshots: false }),
    },
    {
      comment: [
        'hostview reads the log like the api and writes no event. It writes one KV',
        `bucket per hypervisor (${HOSTVIEW_BUCKET_PREFIX}<host>), each named here (--agents):`,
        'the operator creates the buckets, hostview creates no stream. It lists stream',
        'names to find the buckets. A deregistered host\'s bucket is emptied key by key.',
        `Every instance answers the status service's ${HOSTVIEW_POSITIONS} (no queue group),`,
        `and the instance owning the host the audit service's ${HOSTVIEW_AT}; audit snapshots of`,
        `its model in its own bucket (${snapshotBucket('hostview')}). Which instance publishes which`,
        `partition is leased in ${HOSTVIEW_LEASE_BUCKET} (read, revision-checked writes).`,
      ],
      user: 'hostview',
      passwordVar: 'STRATA_NATS_HOSTVIEW_PASSWORD',
      publish: [...eventReader, '$JS.API.STREAM.NAMES', ...snapshotStore('hostview'), ...hostviewLeases(), ...agents.flatMap(hostviewBucketWriter), '_INBOX_hostview.>'],
      publishDeny: [...protectedEventSubjects, ...othersDurables('hostview'), 'strata.evt.>'],
      subscribe: ['_INBOX_hostview.>', HOSTVIEW_POSITIONS, HOSTVIEW_AT],
      allowResponses: true,
    },
    {
      comment: [
        `The Kafka export: its durable pull consumer ${KAFKA_EXPORT} on ${EVENTS} only (create, info,`,
        'next, ack, delete) and single entries of the stream (is an awaited position there at all?).',
        'No other consumer, no event, no request: it reads the log through its durable alone.',
      ],
      user: 'kafka-exporter',
      passwordVar: 'STRATA_NATS_KAFKA_EXPORTER_PASSWORD',
      publish: ['$JS.API.INFO', `$JS.API.STREAM.MSG.GET.${EVENTS}`, ...durableSubjects(KAFKA_EXPORT)],
      publishDeny: [...protectedEventSubjects, ...othersDurables('kafka-exporter')],
      subscribe: ['_INBOX_kafka-exporter.>'],
    },
    {
      comment: [
        `The PostgreSQL read model: its durable pull consumer ${PG_PROJECTOR} on ${EVENTS} (create,`,
        'info, next, ack, delete) and nothing else of the log; it writes no event and answers nothing.',
      ],
      user: 'pg-projector',
      passwordVar: 'STRATA_NATS_PG_PROJECTOR_PASSWORD',
      publish: ['$JS.API.INFO', ...durableSubjects(PG_PROJECTOR), '_INBOX_pg-projector.>'],
      publishDeny: [...protectedEventSubjects, ...othersDurables('pg-projector'), 'strata.evt.>'],
      subscribe: ['_INBOX_pg-projector.>'],
    },
  ];
  for (const host of agents) {
    const stream = hostviewStream(host);
    list.push({
      comment: [
        `Agent of hypervisor ${host}: reads its own host view (${stream}), publishes its status,`,
        `and hears the status service's requests to it (strata.agentctl.${host}.>).`,
      ],
      user: agentUser(host),
      passwordVar: agentPasswordVar(host),
      // Its report, heartbeat and observations under it (strata.status.<host>.heartbeat, .garp, .health): a report names its reporter.
      publish: ['$JS.API.INFO', ...hostviewBucketWatcher(host), `strata.status.${host}`, `strata.status.${host}.>`],
      subscribe: [`_INBOX_${agentUser(host)}.>`, `strata.agentctl.${host}.>`],
    });
  }
  return list;
}

const q = (s) => JSON.stringify(s);
const I = (n) => ' '.repeat(n);

/** A subject list: inline when short, else one per line. */
function list(subjects, indent) {
  const inline = `[${subjects.map(q).join(', ')}]`;
  if (subjects.length <= 3 && inline.length <= 80) return inline;
  return `[\n${subjects.map((s) => `${I(indent + 4)}${q(s)}`).join(',\n')}\n${I(indent + 2)}]`;
}

function renderUser(u) {
  const out = u.comment.map((c) => `${I(6)}# ${c}`);
  if (!u.publish) {
    out.push(`${I(6)}{ user: ${q(u.user)}, password: $${u.passwordVar} }`);
    return out.join('\n');
  }
  out.push(`${I(6)}{ user: ${q(u.user)}, password: $${u.passwordVar},`);
  out.push(`${I(8)}permissions: {`);
  if (u.publishDeny) {
    out.push(`${I(10)}publish: {`);
    out.push(`${I(12)}allow: ${list(u.publish, 10)}`);
    out.push(`${I(12)}deny: ${list(u.publishDeny, 10)}`);
    out.push(`${I(10)}}`);
  } else {
    out.push(`${I(10)}publish: { allow: ${list(u.publish, 10)} }`);
  }
  out.push(`${I(10)}subscribe: { allow: ${list(u.subscribe, 10)} }`);
  if (u.allowResponses) out.push(`${I(10)}allow_responses: true`);
  out.push(`${I(8)}}`);
  out.push(`${I(6)}}`);
  return out.join('\n');
}

export function renderAccounts(agents = []) {
  const header = [
    '# GENERATED by infra/nats/render-accounts.mjs: do not edit. Regenerate with',
    '#   node infra/nats/render-accounts.mjs > infra/nats/accounts.conf',
    '# and for a deployment with its hypervisors: --agents hv1,hv2,...',
    '#',
    '# Users and their permissions (included by nats.conf; the permission tests',
    '# load this text too). Each user\'s publish list is written out in full: the',
    '# JetStream API subjects it needs plus its own subjects. Each service replies',
    '# on its own inbox prefix (_INBOX_<service name>), so a user can be allowed',
    '# only its own replies. Passwords come from the environment.',
    '',
  ];
  const body = users(agents).map(renderUser).join('\n\n');
  return `${header.join('\n')}\naccounts {\n  STRATA {\n    jetstream: enabled\n    users = [\n${body}\n    ]\n  }\n}\n`;
}

/** Parse `--agents a,b` / `--agents=a,b`; throws on anything else. */
export function parseArgs(argv) {
  let agents = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value;
    if (arg === '--agents') {
      value = argv[++i];
      if (value === undefined) throw new Error('--agents needs a value: --agents hv1,hv2');
    } else if (arg.startsWith('--agents=')) {
      value = arg.slice('--agents='.length);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
    agents = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  const seen = new Map();
  for (const host of agents) {
    if (!HOST_ID.test(host)) throw new Error(`not a host id: ${JSON.stringify(host)} (1-63 of a-z 0-9 _ -, starting and ending alphanumeric)`);
    const v = agentPasswordVar(host);
    if (seen.has(v) && seen.get(v) !== host) throw new Error(`hosts ${seen.get(v)} and ${host} would share the password variable ${v}`);
    seen.set(v, host);
  }
  return { agents: [...new Set(agents)] };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write('usage: node infra/nats/render-accounts.mjs [--agents hv1,hv2]  (the accounts config on stdout)\n');
    process.exit(0);
  }
  try {
    const { agents } = parseArgs(process.argv.slice(2));
    process.stdout.write(renderAccounts(agents));
  } catch (err) {
    process.stderr.write(`render-accounts: ${err instanceof Error ? err.message : String(err)}\nusage: node infra/nats/render-accounts.mjs [--agents hv1,hv2]\n`);
    process.exit(2);
  }
}
