import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { formatOf, printEntity } from '../output.js';
import { Session } from '../session/session.js';

/** `--apikey KEY`, `--apikey @FILE` (the key alone in a file), or `$BERTH_APIKEY`. */
function apikeyFrom(flag: string | undefined): string {
  const value = flag ?? process.env.BERTH_APIKEY;
  if (value === undefined || value === '') throw new CliError('an API key is needed: --apikey <key>, --apikey @<file>, or BERTH_APIKEY');
  if (!value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8').trim();
  } catch (error) {
    throw new CliError(`cannot read the API key from ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Where commands go and as whom, from the session file: a user by e-mail, a service ID by name and ID. */
async function showTarget(session: Session, flags: { output?: string }): Promise<void> {
  const { region, registry } = await session.target();
  const subject = session.subject;
  const who: [string, string] =
    subject?.kind === 'service_id' ? ['Service ID', `${subject.name} (${subject.id})`] : ['User', subject?.email ?? session.iamId];
  const target = {
    url: session.url,
    account: session.account,
    iam_id: session.iamId,
    ...(subject?.kind === 'user' ? { user: subject.email } : {}),
    ...(subject?.kind === 'service_id' ? { service_id: { id: subject.id, name: subject.name } } : {}),
    region,
    registry,
  };
  printEntity(flags, [['API endpoint', target.url], ['Account', target.account], who, ['Region', region], ['Registry', registry]], target);
}

/** `berth login`, `berth logout`, `berth target`: the session every other command uses. */
export function registerSession(program: Command): void {
  program
    .command('login')
    .description('log in to a Berth with an API key; keeps a refresh token (not the key) in ~/.berth/config.json (0600)')
    .requiredOption('-a, --api <url>', "the Berth's base URL")
    .option('--apikey <key>', 'the API key, or @FILE to read it from a file (default: $BERTH_APIKEY)')
    .option('-r, --region <region>', 'the region to target')
    .option('--save-apikey', 'also keep the API key, so the session outlives its refresh token', false)
    .option('--output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExample:\n  berth login -a http://registry.example:5000 --apikey @my-key.txt\n')
    .action(async (flags: { api: string; apikey?: string; region?: string; saveApikey: boolean; output?: string }) => {
      formatOf(flags);
      if (!/^https?:\/\/[^/]+/.test(flags.api)) throw new CliError(`-a must be an http(s) URL, got "${flags.api}"`);
      const apikey = apikeyFrom(flags.apikey);
      if (flags.region) checkRegion(flags.region, await Session.regionsOf(flags.api));
      const session = await Session.login(flags.api, apikey, { saveApikey: flags.saveApikey, ...(flags.region ? { region: flags.region } : {}) });
      // Kept now, while the server answers, so `berth target` can show it offline later.
      const registry = await session.registry();
      session.setTarget({ region: registry.region, registry: registry.host });
      await showTarget(session, flags);
    });

  program
    .command('logout')
    .description('forget the session (the refresh token stops being kept here)')
    .addHelpText('after', '\nExample:\n  berth logout\n')
    .action(() => {
      Session.logout();
      process.stdout.write('Logged out.\n');
    });

  program
    .command('target')
    .description('show the account and region commands work in, or set the region')
    .option('-r, --region <region>', 'target this region')
    .option('-c, --account <id>', "target this account (a session works in its key's account only)")
    .option('--output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExamples:\n  berth target\n  berth target -r eu-de\n')
    .action(async (flags: { region?: string; account?: string; output?: string }) => {
      formatOf(flags);
      const session = Session.current();
      if (flags.account !== undefined && flags.account !== session.account) {
        throw new CliError(`this session's API key belongs to account ${session.account}; log in with a key of ${flags.account} instead`);
      }
      // Only setting a region asks the server; showing the target reads the session file alone.
      if (flags.region !== undefined) await setRegion(session, flags.region);
      await showTarget(session, flags);
    });
}

function checkRegion<R extends { name: string }>(region: string, regions: R[]): R {
  const found = regions.find((r) => r.name === region);
  if (!found) throw new CliError(`region ${region} is not one of this server's: ${regions.map((r) => r.name).join(', ')}`);
  return found;
}

/** Targets a region the server has, keeping its registry host. */
export async function setRegion(session: Session, region: string): Promise<void> {
  session.setTarget({ region, registry: checkRegion(region, await session.regions()).registry });
}
