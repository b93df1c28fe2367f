/**
 * Gateway devices and bindings (docs/architecture.md, "Reaching the physical
 * world"): the one resource model for a hardware VTEP driven over BGP EVPN
 * (`evpn`), one driven through its OVSDB `hardware_vtep` database (`ovsdb`),
 * and a Strata gateway host whose agent maps (trunk NIC, VLAN) to a segment
 * (`host`). A binding puts one VLAN of one port of a device on one network.
 *
 * Request schemas here; their operations are in contract.ts, their events in
 * events.ts, the views below.
 */
import { z } from 'zod';
import { MAX_GATEWAY_PORTS, MAX_LABEL_LENGTH, MAX_NAME_LENGTH } from '../bounds.js';
import { DisplayName, HostId, Id, IpAddress, ListOptions, TenantId } from '../common.js';

export const GatewayDeviceKind = ['evpn', 'ovsdb', 'host'] as const;
export type GatewayDeviceKind = (typeof GatewayDeviceKind)[number];

/** A VLAN id on a port: 1-4094 (0 is "priority tag only", 4095 reserved; IEEE 802.1Q). */
export const MIN_VLAN = 1;
export const MAX_VLAN = 4094;
export const Vlan = z
  .number()
  .int({ message: `must be a VLAN id, a whole number ${MIN_VLAN}-${MAX_VLAN}` })
  .min(MIN_VLAN, { message: `must be a VLAN id ${MIN_VLAN}-${MAX_VLAN}` })
  .max(MAX_VLAN, { message: `must be a VLAN id ${MIN_VLAN}-${MAX_VLAN}` });

/**
 * A physical port's name as the device knows it (`swp1`, `Ethernet4`,
 * `xe-0/0/1`, a Linux NIC `eth1`). On a `host` device it is a NIC of that
 * hypervisor, which Linux limits to 15 characters (IPAM checks that).
 */
export const PhysicalPortName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,62}$/, { message: 'must be a port name: 1-63 of A-Z a-z 0-9 _ . : / - (starting alphanumeric)' });

/** A 4-byte AS number (RFC 6793); 0 and 4294967295 are reserved. */
export const AsNumber = z.number().int().min(1, { message: 'must be an AS number 1-4294967294' }).max(4_294_967_294, { message: 'must be an AS number 1-4294967294' });

/** An OVSDB connection target as ovsdb-client takes it: `tcp:<ip>:<port>` or `ssl:<ip>:<port>` (IPv6 in brackets). */
export const OvsdbTarget = z
  .string()
  .max(MAX_LABEL_LENGTH, { message: `must be at most ${MAX_LABEL_LENGTH} characters` })
  .regex(/^(tcp|ssl):(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/, { message: 'must be an OVSDB target like tcp:198.18.0.40:6640' });

/** A port of a device; `tenant`: the one tenant it is granted to (that tenant may bind its networks on it), null: admin only. */
export const GatewayPortInput = z.object({ name: PhysicalPortName, tenant: TenantId.nullable().default(null) });

export const CreateGatewayDevice = z
  .object({
    name: DisplayName,
    description: z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` }).default(''),
    kind: z.enum(GatewayDeviceKind),
    /** The device's VXLAN tunnel endpoint (`evpn`, `ovsdb`); a `host` device's is its hypervisor's, so it is not given. */
    vtepIp: IpAddress.optional(),
    /** `evpn`: where the BGP gateway peers with the switch, and the switch's AS. */
    bgp: z.object({ address: IpAddress, remoteAs: AsNumber }).optional(),
    /** `ovsdb`: where the vtep controller reaches the switch's hardware_vtep database. */
    ovsdb: z.object({ target: OvsdbTarget }).optional(),
    /** `host`: the registered hypervisor acting as the gateway. */
    hostId: HostId.optional(),
    ports: z
      .array(GatewayPortInput)
      .min(1, { message: 'a device needs at least one port' })
      .max(MAX_GATEWAY_PORTS, { message: `at most ${MAX_GATEWAY_PORTS} ports` })
      .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, { message: 'names a port twice' }),
  })
  .superRefine((d, ctx) => {
    const need = (field: 'vtepIp' | 'bgp' | 'ovsdb' | 'hostId', present: boolean) => {
      if (present && d[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is required for a device of kind ${d.kind}` });
      if (!present && d[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is not given for a device of kind ${d.kind}` });
    };
    need('vtepIp', d.kind !== 'host');
    need('bgp', d.kind === 'evpn');
    need('ovsdb', d.kind === 'ovsdb');
    need('hostId', d.kind === 'host');
  });

/** Bind one VLAN of one port of a device to a network (the network's tenant owns the binding). */
export const CreateGatewayBinding = z.object({
  deviceId: Id,
  port: PhysicalPortName,
  vlan: Vlan,
  networkId: Id,
  description: z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` }).default(''),
});

/** Move a binding to another device, port or VLAN (admin): the network stays. `vlan` omitted: unchanged. */
export const MoveGatewayBinding = z.object({ id: Id, deviceId: Id, port: PhysicalPortName, vlan: Vlan.optional() });

export const ListGatewayDevices = ListOptions.extend({});
export const ListGatewayBindings = ListOptions.extend({ deviceId: Id.optional(), networkId: Id.optional() });

export interface GatewayPortView {
  name: string;
  /** The tenant the port is granted to; null: only the admin binds on it. */
  tenant: string | null;
}

export interface GatewayDeviceView {
  id: string;
  name: string;
  description: string;
  kind: GatewayDeviceKind;
  /** The VTEP hypervisors tunnel to (a `host` device: its hypervisor's). */
  vtepIp: string;
  bgp: { address: string; remoteAs: number } | null;
  ovsdb: { target: string } | null;
  hostId: string | null;
  /** A tenant caller sees only the ports granted to it. */
  ports: GatewayPortView[];
  createdAt: string;
}

export interface GatewayBindingView {
  id: string;
  /** The network's tenant. */
  tenant: string;
  deviceId: string;
  port: string;
  vlan: number;
  networkId: string;
  /** The network's VNI (what the device maps the VLAN to). */
  vni: number;
  description: string;
  /** Counts creation and moves. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}
