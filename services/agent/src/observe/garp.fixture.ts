/**
 * What `tcpdump -i nflog:7 -n -l -xx` printed here for `arping -U -I eth0 10.0.0.100` from a port
 * whose rule logged with prefix "port-abc" (bridge family, kernel 6.x, tcpdump 4.99).
 */
export const CAPTURE = [
  '07:29:49.652776 version 0, resource ID 7, family Unknown (7), length 32: ',
  '\t0x0000:  0700 0007 0800 0100 0806 0000 0d00 0a00',
  '\t0x0010:  706f 7274 2d61 6263 0000 0000 0800 0600',
  '\t0x0020:  0000 0003 0800 0400 0000 0002 1000 0800',
  '\t0x0030:  0006 0000 0200 0000 000a 0000 0600 0f00',
  '\t0x0040:  0001 0000 0600 1100 000e 0000 1200 1000',
  '\t0x0050:  ffff ffff ffff 0200 0000 000a 0806 0000',
  '\t0x0060:  1400 0300 0000 0000 6b15 0eec 0000 0000',
  '\t0x0070:  0009 8eb7 0800 0b00 0000 0000 0800 0e00',
  '\t0x0080:  0000 0000 1200 1500 ffff ffff ffff 0200',
  '\t0x0090:  0000 000a 0806 0000 2000 0900 0001 0800',
  '\t0x00a0:  0604 0001 0200 0000 000a 0a00 0064 ffff',
  '\t0x00b0:  ffff ffff 0a00 0064',
];
