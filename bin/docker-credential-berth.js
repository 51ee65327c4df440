#!/usr/bin/env node
// The Docker credential helper of Berth (`credHelpers: {"<registry>": "berth"}`); see src/cli/credential-helper.ts.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/credential-helper.ts');
