#!/usr/bin/env node
import { ConfigError } from '../config/config-error.js';
import { CommanderError } from './commander.js';
import { buildProgram } from './program.js';

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  // One line, never a stack: CliErrors say what to do, the rest at least what went wrong.
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`berth: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
