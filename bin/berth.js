#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npm install` alone gives a working `berth`.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
