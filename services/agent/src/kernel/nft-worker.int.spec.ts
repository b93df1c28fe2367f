import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { teardownNamespaces } from '@strata/testing';
import { inNetns, nodeExec, runOk } from './exec.js';
import { NftWorker, NftWorkerError } from './nft-worker.js';

const d = describeIf(kernel());

d('NftWorker (libnftables in a long-lived process, in a namespace)', () => {
  const ns = `stw${randomBytes(3).toString('hex')}-nft`;
  const exec = inNetns(nodeExec, ns);
  let worker: NftWorker;
  const elements = async (): Promise<string> => runOk(exec, ['nft', 'list', 'set', 'inet', 'strata', 's']);

  beforeAll(async () => {
    await runOk(nodeExec, ['ip', 'netns', 'add', ns]);
    await runOk(exec, ['nft', '-f', '-'], 'add table inet strata\nadd set inet strata s { type ipv4_addr; }\n');
    worker = new NftWorker(exec);
  });

  afterAll(async () => {
    worker?.stop();
    await teardownNamespaces({ names: [ns] });
  });

  it('applies scripts as transactions in the managed namespace', async () => {
    await worker.apply('add element inet strata s { 10.0.0.1, 10.0.0.2 }\n');
    await worker.apply('delete element inet strata s { 10.0.0.1 }\nadd element inet strata s { 10.0.0.3 }\n');
    const listed = await elements();
    expect(listed).toContain('10.0.0.2');
    expect(listed).toContain('10.0.0.3');
    expect(listed).not.toContain('10.0.0.1');
  });

  it("reports nft's refusal as an error and changes nothing (a transaction)", async () => {
    const err = await worker.apply('add element inet strata s { 10.0.0.9 }\ndelete element inet strata s { 10.0.0.1 }\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NftWorkerError);
    expect(String(err)).toMatch(/No such file or directory|Could not process rule/);
    expect(await elements()).not.toContain('10.0.0.9');
  });

  it('starts again after the worker process is gone', async () => {
    worker.stop();
    await worker.apply('add element inet strata s { 10.0.0.4 }\n');
    expect(await elements()).toContain('10.0.0.4');
    expect(worker.usable).toBe(true);
  });
});
