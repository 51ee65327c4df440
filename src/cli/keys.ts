import type { Command } from 'commander';
import { storeConfig, storeOptions, type StoreFlags } from './store-config.js';

/** `berth keys rotate`: a new IAM signing key for every node; old public keys stay published. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage the keys that sign IAM access tokens');
  storeOptions(
    keys.command('rotate').description('create a new signing key; nodes sign with it within a minute, old tokens still verify'),
  )
    .addHelpText('after', '\nExample:\n  berth keys rotate --data ./berth-data\n')
    .action(async (flags: StoreFlags) => {
      const { openIam } = await import('../server.js');
      const { iam, close } = await openIam(storeConfig(flags));
      try {
        const kid = await iam.signingKeys.rotate();
        process.stdout.write(`new signing key ${kid}\n`);
      } finally {
        await close();
      }
    });
}
