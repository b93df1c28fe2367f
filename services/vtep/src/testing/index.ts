/** Real Open vSwitch pieces for tests and benchmarks: an ovsdb-server with the hardware_vtep schema, the ovs-vtep emulator as a switch, a VLAN-tagging server. */
export { startOvsdbServer, VTEP_SCHEMA, VSWITCH_SCHEMA, type OvsdbServer } from './ovsdb-server.js';
export { ovs, startAccessSwitch, startEmulatedSwitch, startVlanServer, type EmulatedSwitch } from './emulator.js';
