#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { statusService } from './service.js';

await runService(statusService);
