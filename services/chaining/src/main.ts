#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { chainingService } from './service.js';

await runService(chainingService);
