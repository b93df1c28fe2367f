/**
 * Security groups across availability zones, with real packets (docs/
 * architecture.md, "Security groups across zones"): zone az1 (hv1, hv2) and
 * zone az2 (hv3) federated through an FRR route reflector (`Zones`).
 *
 * Each tenant stretches a segment across both zones and gives "the same"
 * groups the same federation tags in each zone: app 10 and web 20 in az1,
 * app 10 and db 30 in az2, where db admits TCP 5432 from its local group
 * app (and ping from the segment). az1's gateway carries each port's tags as large communities
 * `<federationAs>:1:<tag>` on its type-2 routes; az2 records them with the
 * MAC/IP and makes az1's app VMs members of its app group. Shown: az1's app
 * VM connects to az2's db VM, az1's web VM is refused; putting the web VM
 * into app in az1 lets it in, and az2's hypervisor changes set elements
 * only (its nftables chains byte-identical, one member key more in its
 * view). Tenant B uses the same tags and the same addresses: its app VM is
 * a member of B's app group in az2 and never of A's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SecurityGroupView } from '@strata/contracts';
import { eventually, Zones, type ManagedProcess, type Principal, type Vm, type Zone } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import type { NatsConnection } from 'nats';
import { whoami, whoamiEventually, whoamiServer } from '../support/whoami.js';
import { CIDR, hostviewKeys, segmentVm, stretchedSegment, TWO_ZONES, type Segment } from './support.js';

const d = describeIf(kernel(['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));
const DB_PORT = 5432;
const TAG = { app: 10, web: 20, db: 30 } as const;

interface Tenant {
  who: Principal;
  vni: number;
  /** az2's app group (tag 10): what db's rule names. */
  app2: SecurityGroupView;
  app1: SecurityGroupView;
  app: Vm;
  web?: Vm;
  db: Vm;
}

/** hostview's id of a zone's MAC on a VNI (services/hostview inputs/physical.ts): phys-<zone device>-<vni>-<mac without colons>. */
const endpointId = (zone: string, vni: number, vm: Vm): string => `phys-zone-${zone}-${vni}-${vm.port.mac.replaceAll(':', '')}`;

/** A host's nftables table without what traffic and membership change: counter values and set elements. */
async function rulesOf(vm: { ns: { exec(cmd: string[]): Promise<string> } }): Promise<string> {
  const table = await vm.ns.exec(['nft', '-a', 'list', 'table', 'inet', 'strata']);
  return table.replace(/packets \d+ bytes \d+/g, '').replace(/elements = \{[^}]*\}/g, 'elements = {}');
}

d('security groups across two availability zones (membership as BGP large communities)', () => {
  let zones: Zones;
  let az1: Zone;
  let az2: Zone;
  let admin2: NatsConnection;
  const tenants = new Map<string, Tenant>();
  const servers: ManagedProcess[] = [];

  const group = (zone: Zone, who: Principal, name: keyof typeof TAG): Promise<SecurityGroupView> =>
    zone.lab.secgroup.command('group.create', { name, description: '', egressRules: true, federationTag: TAG[name] }, who);

  const vm = (zone: Zone, who: Principal, s: Segment, name: string, hostId: string, groups: SecurityGroupView[]): Promise<Vm> =>
    segmentVm(zone, who, s, name, hostId, groups.map((g) => g.id));

  /** The keys of an az2 host's view. */
  const viewKeys = (hostId: string): Promise<string[]> => hostviewKeys(admin2, hostId);

  const members = async (groupId: string): Promise<string[]> => (await viewKeys('hv3')).filter((k) => k.startsWith(`hv3.member.${groupId}.`)).map((k) => k.split('.')[3]!);

  beforeAll(async () => {
    zones = await Zones.start(TWO_ZONES);
    az1 = zones.zone('az1');
    az2 = zones.zone('az2');
    admin2 = await az2.lab.natsUsers.connect('admin');
    for (const [tenant, host] of [['tenant-a', 'hv1'], ['tenant-b', 'hv2']] as const) {
      const who = { tenant, admin: false };
      const one = await stretchedSegment(az1, who);
      const two = await stretchedSegment(az2, who, one.net.vni);
      const app1 = await group(az1, who, 'app');
      const app2 = await group(az2, who, 'app');
      const db = await group(az2, who, 'db');
      await az2.lab.secgroup.command('rule.create', { groupId: db.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: DB_PORT, portMax: DB_PORT, remoteGroupId: app2.id }, who);
      // Ping from the whole segment: a refused connection is then the group rule's doing, not the network's.
      await az2.lab.secgroup.command('rule.create', { groupId: db.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteCidr: CIDR }, who);
      const t: Tenant = {
        who,
        vni: one.net.vni,
        app1,
        app2,
        app: await vm(az1, who, one, `${tenant}-app`, host, [app1]),
        db: await vm(az2, who, two, `${tenant}-db`, 'hv3', [db]),
      };
      // Tenant A also has a web VM in az1 (group web, tag 20), on the same hypervisor as its app VM.
      if (tenant === 'tenant-a') t.web = await vm(az1, who, one, `${tenant}-web`, host, [await group(az1, who, 'web')]);
      tenants.set(tenant, t);
      servers.push(await whoamiServer(t.db.ns.name, [DB_PORT]));
    }
  }, 300_000);

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await admin2?.close().catch(() => undefined);
    await zones?.destroy();
  });

  it("db in az2 admits az1's app VM and refuses its web VM", async () => {
    const a = tenants.get('tenant-a')!;
    expect(await whoamiEventually(a.app.ns.name, a.db.ip, DB_PORT)).toBe(a.app.ip);
    // The web VM reaches the segment (it pings db) but not db's port.
    await a.web!.pingEventually(a.db.ip);
    expect(await whoami(a.web!.ns.name, a.db.ip, DB_PORT)).toBeNull();
  });

  it("a tag means nothing outside its tenant: each tenant's app VM is a member of its own tenant's app group in az2 only", async () => {
    const [a, b] = [tenants.get('tenant-a')!, tenants.get('tenant-b')!];
    expect(a.vni).not.toBe(b.vni);
    expect(a.app.ip).toBe(b.app.ip);
    await eventually(async () => (await members(b.app2.id)).length > 0, "tenant B's app VM in B's app group on hv3", 240);
    expect(await members(a.app2.id)).toEqual([endpointId('az1', a.vni, a.app)]);
    expect(await members(b.app2.id)).toEqual([endpointId('az1', b.vni, b.app)]);
    expect(await whoamiEventually(b.app.ns.name, b.db.ip, DB_PORT)).toBe(b.app.ip);
  });

  it('adding the web VM to app in az1 lets it in, and az2 changes set elements only', async () => {
    const a = tenants.get('tenant-a')!;
    const web = a.web!;
    const hv3 = az2.lab.host('hv3');
    const rulesBefore = await rulesOf(hv3);
    const keysBefore = await viewKeys('hv3');
    expect(rulesBefore).toContain('chain sg_');
    const current = await az1.lab.secgroup.query('port.get', { portId: web.port.id }, a.who);
    await az1.lab.secgroup.command('port.setGroups', { portId: web.port.id, groupIds: [...current.groupIds, a.app1.id] }, a.who);
    expect(await whoamiEventually(web.ns.name, a.db.ip, DB_PORT)).toBe(web.ip);
    // az2: the same rules and chains, byte for byte (handles included); one member key more in hv3's view.
    expect((await rulesOf(hv3)).split('\n')).toEqual(rulesBefore.split('\n'));
    const keysAfter = await viewKeys('hv3');
    expect(keysAfter.filter((k) => !keysBefore.includes(k))).toEqual([`hv3.member.${a.app2.id}.${endpointId('az1', a.vni, web)}`]);
    expect(keysBefore.filter((k) => !keysAfter.includes(k))).toEqual([]);
  });
});
