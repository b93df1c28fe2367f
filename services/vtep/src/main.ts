#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { vtepService } from './service.js';

await runService(vtepService);
