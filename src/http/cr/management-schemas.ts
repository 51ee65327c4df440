import type { HeaderDoc } from '../openapi/route-doc.js';
import { arrayOf, boolean, integer, mapOf, named, object, record, string } from '../openapi/schema.js';

// What the management route modules read and answer (their bodies, views.ts), for GET /openapi.json.

/** The image in a wildcard path (image-refs.ts' refInPath). */
export const imageParam = {
  image: 'the image reference <registry>/<namespace>/<repository>:<tag> or @<digest>, percent-encoded as one segment (the registry host may be left out)',
};

export function resourceGroupHeader(required: boolean): HeaderDoc {
  return { name: 'X-Auth-Resource-Group', required, description: 'the resource group to assign the namespace to' };
}

/** Lists may repeat the parameter or join values with commas. */
export const imagesQuerySchema = object({
  namespace: string('only these namespaces (comma-separated)'),
  repository: string('only these repositories (comma-separated), with or without the registry host'),
  includeManifestLists: boolean('also list multi-platform images'),
});

const issueCounts = { VulnerabilityCount: integer(), ConfigurationIssueCount: integer(), IssueCount: integer(), ExemptIssueCount: integer() };
const scanned = string('always "Not scanned": Berth has no Vulnerability Advisor');

export const namespaceNamesSchema = arrayOf(string(), 'the names of the namespaces the caller may list');

export const namespaceDetailsSchema = named(
  'NamespaceDetails',
  object({ name: string(), account: string(), created_date: string(), updated_date: string(), resource_group: string() }, ['name', 'account', 'created_date', 'updated_date']),
);

export const namespaceSchema = named('Namespace', record({ namespace: string() }));

export const remoteApiImageSchema = named(
  'RemoteAPIImage',
  record({
    Id: string('the config digest'),
    ParentId: string(),
    Created: integer('seconds since the epoch'),
    Size: integer(),
    VirtualSize: integer(),
    Labels: mapOf(string()),
    ManifestType: string(),
    RepoTags: arrayOf(string()),
    RepoDigests: arrayOf(string()),
    DigestTags: mapOf(arrayOf(string())),
    Vulnerable: scanned,
    ...issueCounts,
  }),
);

export const imageDigestSchema = named(
  'ImageDigest',
  record({
    id: string('the manifest digest'),
    created: integer('seconds since the epoch'),
    size: integer(),
    manifestType: string(),
    repoTags: mapOf(
      mapOf(record({ vulnerable: scanned, vulnerabilityCount: integer(), configurationIssueCount: integer(), issueCount: integer(), exemptIssueCount: integer() })),
      'repository → tag → scan summary',
    ),
  }),
);

export const imageDigestsBodySchema = object({ exclude_tagged: boolean('only images that are on their own untagged'), repositories: arrayOf(string(), 'with or without the registry host') });

export const imageInspectionSchema = named(
  'ImageInspection',
  record({
    Id: string(),
    Parent: string(),
    Comment: string(),
    Created: string(),
    Container: string(),
    ContainerConfig: { type: 'object' },
    DockerVersion: string(),
    Author: string(),
    Config: { type: 'object', description: 'the image config’s config (Env, Cmd, Labels, …)' },
    Architecture: string(),
    Os: string(),
    OsVersion: string(),
    Size: integer(),
    VirtualSize: integer(),
    RootFS: record({ Type: string(), Layers: arrayOf(string()), BaseLayer: string() }),
    ManifestType: string(),
  }),
);

export const untaggedSchema = named('ImageDeleteResult', record({ Untagged: string('the reference as given') }));

export const bulkDeleteSchema = named(
  'ImageBulkDeleteResult',
  record({ success: arrayOf(string()), error: mapOf(record({ code: string(), message: string() }), 'reference → why it was not deleted') }),
);

export const trashSchema = named('Trash', mapOf(record({ daysUntilExpiry: integer(), tags: arrayOf(string()) }), '<registry>/<repository>@<digest> → its trash entry'));

export const restoredTagsSchema = named('RestoredTags', record({ successful: arrayOf(string()), unsuccessful: arrayOf(string(), 'tags now on another image') }));

const bytes = record({ storage_bytes: integer(), traffic_bytes: integer() });
export const quotaSchema = named('Quota', record({ limit: bytes, usage: bytes }));
export const quotaBodySchema = object(
  { storage_megabytes: integer('-1 for no quota'), traffic_megabytes: integer('-1 for no quota') },
  [],
  'either or both',
);

export const planSchema = named('Plan', record({ plan: string() }));

export const regionsSchema = arrayOf(record({ name: string(), registry: string('the registry host as this client reaches it') }));
