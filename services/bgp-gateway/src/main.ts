#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { bgpGatewayService } from './service.js';

await runService(bgpGatewayService);
