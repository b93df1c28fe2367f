#!/usr/bin/env node
import { runService } from '@strata/runtime';
import { kafkaExporterService } from './service.js';

await runService(kafkaExporterService);
