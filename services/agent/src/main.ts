#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { agentService } from './service.js';

await runService(agentService);
