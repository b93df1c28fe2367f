#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { ipamService } from './service.js';

await runService(ipamService);
