#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { secgroupService } from './service.js';

await runService(secgroupService);
