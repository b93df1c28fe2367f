#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { natService } from './service.js';

await runService(natService);
