#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { hostviewService } from './service.js';

await runService(hostviewService);
