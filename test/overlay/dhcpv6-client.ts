/**
 * A VM's DHCPv6 client: Debian's isc-dhcp-client (`dhclient -6`), as a
 * cloud image's network scripts run it. Every piece of its state is a file
 * named on its command line (lease, PID, hook script), so instances in many
 * VM namespaces of one machine never share anything, and our hook only
 * configures the address (no /etc/resolv.conf: the mount namespace is the
 * machine's). The default route comes from the router advertisement, as on
 * a real VM.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Vm } from '@strata/lab';

const HOOK = [
  '#!/bin/sh',
  '# dhclient -6 hook: the leased address only (dhclient-script would also rewrite resolv.conf).',
  'echo "$reason $new_ip6_address/$new_ip6_prefixlen dns=$new_dhcp6_name_servers" >> "$(dirname "$0")/events"',
  'case "$reason" in',
  '  BOUND6|RENEW6|REBIND6|REBOOT6)',
  '    [ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad',
  '    ;;',
  'esac',
  'exit 0',
  '',
].join('\n');

/** Run `dhclient -6` once on the VM's eth0 (it stays as a daemon to renew); returns the bound address. */
export async function dhcpv6(vm: Vm): Promise<string> {
  const bound = (await runDhclient(vm, [])).filter((l) => l.startsWith('BOUND6 ')).pop();
  if (bound === undefined) throw new Error(`${vm.name}: dhclient -6 exited without a lease`);
  return bound.slice('BOUND6 '.length).split('/')[0]!;
}

/**
 * Stateless DHCPv6 (`dhclient -6 -S`, an information request, as for the O
 * flag): the DNS servers the reply carried (option 23), or null when no
 * server replied. dhclient 4.4 calls its hook with reason RENEW6 (and no
 * address) for the Reply (seen here).
 */
export async function dhcpv6Information(vm: Vm): Promise<string[] | null> {
  const reply = (await runDhclient(vm, ['-S'])).find((l) => l.startsWith('RENEW6 '));
  if (reply === undefined) return null;
  return (/ dns=(.*)$/.exec(reply)?.[1] ?? '').split(' ').filter((s) => s !== '');
}

/** The hook's lines, one per event (`<reason> <address>/<length>`). */
async function runDhclient(vm: Vm, mode: string[]): Promise<string[]> {
  // dhclient binds its socket to eth0's link-local address, which is unusable until DAD is done
  // (it exits at once with "Cannot assign requested address"); Debian's ifupdown waits the same way.
  await eventually(async () => (await vm.ns.exec(['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link', 'tentative'])).trim() === '', `${vm.name}: link-local DAD`, 40, 250);
  const dir = mkdtempSync(join(tmpdir(), `strata-dhclient6-${vm.name}-`));
  const hook = join(dir, 'hook.sh');
  writeFileSync(hook, HOOK);
  chmodSync(hook, 0o755);
  // timeout: give up (exit non-zero) if nobody answers within 20 s instead of retrying for a minute.
  writeFileSync(join(dir, 'dhclient6.conf'), 'timeout 20;\n');
  await vm.ns.exec(['dhclient', '-6', ...mode, '-1', '-cf', join(dir, 'dhclient6.conf'), '-sf', hook, '-lf', join(dir, 'leases'), '-pf', join(dir, 'pid'), 'eth0'], {
    timeoutMs: 40_000,
  });
  return readFileSync(join(dir, 'events'), 'utf8').split('\n');
}
