import type { Command } from 'commander';
import { withExample, withOutput, type OutputFlags } from './options.js';
import { CliError } from '../errors.js';
import { jsonBody } from '../http.js';
import { confirm, formatOf, printList } from '../output.js';
import { RegistryApi } from '../registry-api.js';
import { Session } from '../session/session.js';

/** GET /api/v1/trash: each trashed image by its full digest reference. */
type TrashAnswer = Record<string, { daysUntilExpiry: number; tags: string[] }>;

/** POST /api/v1/images/digests: one digest and the repositories (`host/ns/repo`) it is in, with their tags. */
interface ImageDigest {
  id: string;
  repoTags: Record<string, Record<string, unknown>>;
}

interface BulkDeleteAnswer {
  success: string[];
  error: Record<string, { code: string; message: string }>;
}

const registryApi = async () => RegistryApi.of(Session.current());

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** `host/ns/repo` → `ns`: the namespace of a repository as answers name it. */
const namespaceOfRepository = (repository: string) => repository.split('/')[1];

/** A reference by tag with the tag written out, since the server reads none as `latest`. */
function withTag(reference: string): string {
  const last = reference.slice(reference.lastIndexOf('/') + 1);
  return last.includes('@') || last.includes(':') ? reference : `${reference}:latest`;
}

async function restore(image: string): Promise<void> {
  const api = await registryApi();
  const reference = api.fullReference(image);
  if (reference.includes('@')) {
    // By digest: the image comes back with each tag it had that no other image has taken meanwhile.
    const answer = await api.call<{ successful: string[]; unsuccessful: string[] }>(`/api/v1/trash/${encodeURIComponent(reference)}/restoretags`, { method: 'POST' });
    const lines = [
      ...answer.successful.map((tag) => `Restored '${tag}'.`),
      ...answer.unsuccessful.map((tag) => `Could not restore '${tag}': the tag names another image now.`),
    ];
    if (answer.successful.length + answer.unsuccessful.length === 0) lines.push(`Restored '${reference}' (it had no tags).`);
    else if (answer.successful.length === 0) lines.push(`Restored '${reference}', untagged.`);
    process.stdout.write(`${lines.join('\n')}\nOK\n`);
    return;
  }
  const tagged = withTag(reference);
  await api.call(`/api/v1/trash/${encodeURIComponent(tagged)}/restore`, { method: 'POST' });
  process.stdout.write(`Restored '${tagged}'.\nOK\n`);
}

/** `berth cr trash-list`, `image-restore`, `image-prune-untagged`: deleted images wait in the trash until they expire. */
export function registerTrashCommands(cr: Command): void {
  withExample(
    withOutput(cr.command('trash-list').description('list the deleted images waiting in the trash, and the days until each expires').option('--restrict <namespace>', 'only this namespace')),
    'berth cr trash-list --restrict team-a',
  ).action(async (flags: OutputFlags & { restrict?: string }) => {
    formatOf(flags);
    const api = await registryApi();
    const query = flags.restrict !== undefined ? `?${new URLSearchParams({ namespace: flags.restrict })}` : '';
    const trash = await api.call<TrashAnswer>(`/api/v1/trash${query}`);
    const rows = Object.entries(trash).map(([digest, entry]) => ({ digest, daysUntilExpiry: entry.daysUntilExpiry, tags: entry.tags }));
    printList(
      flags,
      [
        ['Digest', (r: (typeof rows)[number]) => r.digest],
        ['Days until expiry', (r: (typeof rows)[number]) => r.daysUntilExpiry],
        ['Tags', (r: (typeof rows)[number]) => r.tags.join(', ')],
      ],
      rows,
      'No images in the trash.',
    );
  });

  withExample(
    cr
      .command('image-restore <image>')
      .description('restore an image from the trash: by digest with every tag it had (those no other image took meanwhile), or by tag (default latest) with that tag'),
    'berth cr image-restore team-a/app@sha256:4bc4…',
    'berth cr image-restore team-a/app:1.0',
  ).action(restore);

  withExample(
    cr
      .command('image-prune-untagged')
      .description('delete every image that has no tag and is not part of another (a platform image of an index, a signature); they go to the trash')
      .option('--restrict <namespace>', 'only this namespace')
      .option('-f, --force', 'do not ask'),
    'berth cr image-prune-untagged --restrict team-a -f',
  ).action(async (flags: { restrict?: string; force?: boolean }) => {
    const api = await registryApi();
    const digests = await api.call<ImageDigest[]>('/api/v1/images/digests', { method: 'POST', ...jsonBody({ exclude_tagged: true }) });
    // Bulk delete takes one reference per repository a digest is in.
    const references = digests.flatMap((digest) =>
      Object.keys(digest.repoTags)
        .filter((repository) => flags.restrict === undefined || namespaceOfRepository(repository) === flags.restrict)
        .map((repository) => `${repository}@${digest.id}`),
    );
    const where = flags.restrict !== undefined ? ` in namespace '${flags.restrict}'` : ` in region '${api.registry.region}'`;
    if (references.length === 0) {
      process.stdout.write(`No untagged images${where}.\n`);
      return;
    }
    await confirm(`Delete ${plural(references.length, 'untagged image')}${where}?`, flags.force);
    const answer = await api.call<BulkDeleteAnswer>('/api/v1/images/bulkdelete', { method: 'POST', ...jsonBody(references) });
    const failures = Object.entries(answer.error);
    process.stdout.write(
      [`Deleted ${plural(answer.success.length, 'untagged image')}.`, ...failures.map(([reference, error]) => `Could not delete '${reference}': ${error.message}`)].join('\n') + '\n',
    );
    if (failures.length > 0) throw new CliError(`${plural(failures.length, 'image')} could not be deleted`);
    process.stdout.write('OK\n');
  });
}
