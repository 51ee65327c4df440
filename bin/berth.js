#!/usr/bin/env -S node --max-semi-space-size=32
// A larger young generation: blob uploads allocate a buffer per socket read, and with the default
// size V8 promotes and re-marks far more often (measured: ~40% less CPU per GiB pushed).
// Runs the compiled build in dist/: `npm install` in a checkout builds it (the prepare script), and
// the published package ships it.
import { loadBuilt } from './load-built.js';

await loadBuilt('cli/main.js');
