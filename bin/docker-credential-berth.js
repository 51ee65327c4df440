#!/usr/bin/env node
// The Docker credential helper of Berth (`credHelpers: {"<registry>": "berth"}`); see src/cli/credential-helper.ts.
import { loadBuilt } from './load-built.js';

await loadBuilt('cli/credential-helper.js');
