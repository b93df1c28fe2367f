#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { auditService } from './service.js';

await runService(auditService);
