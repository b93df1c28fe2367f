/**
 * A session with one switch's `hardware_vtep` database: the connection, a
 * monitor over the tables the controller reads and writes (kept in a
 * Replica), and transactions. `onChange` fires after the monitor's initial
 * contents and after each update, so the caller can reconcile against the
 * replica; the caller reopens the session after `onClose`.
 */
import { OvsdbConnection, OvsdbRpcError, type OvsdbTarget } from './connection.js';
import { Replica } from './replica.js';

export const VTEP_DB = 'hardware_vtep';

/** The tables and columns the vtep controller monitors (docs/architecture.md, "OVSDB hardware_vtep"). */
export const VTEP_MONITORED: Readonly<Record<string, readonly string[]>> = {
  Physical_Switch: ['name', 'ports', 'tunnel_ips'],
  Physical_Port: ['name', 'vlan_bindings'],
  Logical_Switch: ['name', 'tunnel_key', 'replication_mode'],
  Physical_Locator: ['encapsulation_type', 'dst_ip', 'tunnel_key'],
  Physical_Locator_Set: ['locators'],
  Ucast_Macs_Remote: ['MAC', 'logical_switch', 'locator', 'ipaddr'],
  Mcast_Macs_Remote: ['MAC', 'logical_switch', 'locator_set'],
  Ucast_Macs_Local: ['MAC', 'logical_switch', 'locator', 'ipaddr'],
  Mcast_Macs_Local: ['MAC', 'logical_switch', 'locator_set'],
};

/** One operation of a transaction failed (the whole transaction was rolled back). */
export class OvsdbTransactionError extends Error {
  override readonly name = 'OvsdbTransactionError';
  constructor(readonly details: unknown[]) {
    super(`OVSDB transaction failed: ${JSON.stringify(details)}`);
  }
}

export interface SessionOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  onChange: (replica: Replica) => void;
  onClose: (cause?: Error) => void;
}

export class VtepSession {
  readonly replica = new Replica(Object.keys(VTEP_MONITORED));

  private constructor(private readonly conn: OvsdbConnection) {}

  static async open(target: OvsdbTarget, o: SessionOptions): Promise<VtepSession> {
    let session: VtepSession | undefined;
    /** Until open resolves, a failure is its rejection, not an `onClose` (the caller would retry twice). */
    let opened = false;
    const monitorId = 'strata-vtep';
    const conn = await OvsdbConnection.open(
      target,
      {
        requestTimeoutMs: o.requestTimeoutMs,
        onNotification: (method, params) => {
          if (method !== 'update' || params[0] !== monitorId || !session) return;
          session.replica.apply(params[1]);
          o.onChange(session.replica);
        },
        onClose: (cause) => {
          if (opened) o.onClose(cause);
        },
      },
      o.connectTimeoutMs,
    );
    session = new VtepSession(conn);
    try {
      const dbs = await conn.request('list_dbs', []);
      if (!Array.isArray(dbs) || !dbs.includes(VTEP_DB)) throw new OvsdbRpcError('list_dbs', `the server has no ${VTEP_DB} database (it has ${JSON.stringify(dbs)})`);
      const requests = Object.fromEntries(Object.entries(VTEP_MONITORED).map(([t, columns]) => [t, { columns }]));
      session.replica.apply(await conn.request('monitor', [VTEP_DB, monitorId, requests]));
    } catch (e) {
      conn.close(e as Error);
      throw e;
    }
    if (conn.isClosed) throw new OvsdbRpcError('monitor', 'the server closed the session');
    opened = true;
    o.onChange(session.replica);
    return session;
  }

  /** Run `ops` as one transaction; the results of its operations, or OvsdbTransactionError. */
  async transact(ops: readonly unknown[]): Promise<unknown[]> {
    const result = await this.conn.request('transact', [VTEP_DB, ...ops]);
    const results = Array.isArray(result) ? result : [];
    const errors = results.filter((r) => typeof r === 'object' && r !== null && 'error' in r);
    if (errors.length > 0 || results.length < ops.length) throw new OvsdbTransactionError(errors.length > 0 ? errors : results);
    return results;
  }

  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  close(cause?: Error): void {
    this.conn.close(cause);
  }
}
