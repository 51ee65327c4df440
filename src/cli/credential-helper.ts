#!/usr/bin/env node
import { CliError } from './errors.js';
import { Session } from './session/session.js';

/**
 * `docker-credential-berth`: the Docker credential-helper protocol (`get`, `store`, `erase`,
 * `list`; the argument names the action, stdin carries its input). For the registries of the
 * logged-in Berth it hands out a fresh IAM access token (`iambearer`) minted from the session, so
 * nothing that goes stale is ever written into docker's or podman's config. Other registries are
 * "not found", so their clients fall back to their own credentials.
 */
const NOT_FOUND = 'credentials not found in native keychain';

async function readInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** `http://127.0.0.1:5000/`, `127.0.0.1:5000` or `https://reg.example/v1/` as the bare host. */
function hostOf(serverUrl: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(serverUrl) ? serverUrl : `http://${serverUrl}`;
  try {
    return new URL(withScheme).host.toLowerCase();
  } catch {
    return serverUrl.toLowerCase();
  }
}

async function ourHosts(session: Session): Promise<string[]> {
  return (await session.regions()).map((region) => region.registry.toLowerCase());
}

async function main(action: string | undefined): Promise<void> {
  switch (action) {
    case 'get': {
      const serverUrl = await readInput();
      let session: Session;
      try {
        session = Session.current();
      } catch {
        throw new CliError(NOT_FOUND);
      }
      if (!(await ourHosts(session)).includes(hostOf(serverUrl))) throw new CliError(NOT_FOUND);
      process.stdout.write(`${JSON.stringify({ ServerURL: serverUrl, Username: 'iambearer', Secret: await session.accessToken() })}\n`);
      return;
    }
    case 'list': {
      let hosts: string[] = [];
      try {
        hosts = await ourHosts(Session.current());
      } catch {
        // Not logged in: nothing to list.
      }
      process.stdout.write(`${JSON.stringify(Object.fromEntries(hosts.map((host) => [host, 'iambearer'])))}\n`);
      return;
    }
    case 'store':
    case 'erase':
      // Credentials come from the session on every `get`: there is nothing to keep or to forget.
      await readInput();
      return;
    default:
      throw new CliError('usage: docker-credential-berth get|store|erase|list (the input comes on stdin)');
  }
}

try {
  await main(process.argv[2]);
} catch (error) {
  // The protocol wants the message on stdout and a non-zero exit.
  process.stdout.write(`${error instanceof CliError ? error.message : (error as Error).message}\n`);
  process.exit(1);
}
