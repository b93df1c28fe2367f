import { describe, expect, it } from 'vitest';
import { OpenStackError } from './openstack.js';

// The stock CLI's own messages (openstacksdk's find_* with ignore_missing=False, and a GET by id answered 404).
describe("the openstack CLI's answers the demo tells apart", () => {
  it('"no such resource" lets the demo create it', () => {
    for (const said of ['No Network found for os-net', 'No Port found for os-1', 'No SecurityGroup found for os-web', 'ResourceNotFound: 404: Client Error for url: http://neutron:9696/v2.0/ports/x, Port x could not be found.']) {
      expect(new OpenStackError(['network', 'show', 'x'], said).notFound).toBe(true);
    }
  });

  it('two resources of that name, or any other failure, is not "not found"', () => {
    for (const said of ["More than one Network exists with the name 'os-net'.", 'HttpException: 500: Server Error for url: http://neutron:9696/v2.0/networks', 'Unable to establish connection to http://neutron:9696/v2.0/networks']) {
      expect(new OpenStackError(['network', 'show', 'x'], said).notFound).toBe(false);
    }
  });
});
