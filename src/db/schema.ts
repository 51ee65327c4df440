import type { Generated } from 'kysely';

/** Table types. Times are milliseconds since the epoch; sizes are bytes. */
export interface RepositoriesTable {
  name: string;
  created_at: number;
  /** Last upload or mount into it: while a push goes on, its blobs that no manifest names yet stay. */
  pushed_at: number;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
  /** When its last repository link went; null while a repository links it. The collector's grace starts here. */
  released_at: number | null;
}

/** A repository reaches a blob only through one of these rows. */
export interface RepositoryBlobsTable {
  repository: string;
  digest: string;
  created_at: number;
  /**
   * Null while a live or trashed manifest of the repository names the blob; otherwise when the link
   * was made, last used by a client, or lost its last reference. The collector's grace starts here.
   */
  orphaned_at: number | null;
}

export interface ManifestsTable {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  /** The manifest exactly as pushed. */
  content: Buffer;
  subject: string | null;
  artifact_type: string | null;
  /** JSON of the manifest's annotations, for the referrers API. */
  annotations: string | null;
  created_at: number;
}

/** What a manifest points at: blobs (config, layers) and, for an index, child manifests. */
export interface ManifestReferencesTable {
  repository: string;
  manifest_digest: string;
  reference_digest: string;
  kind: 'blob' | 'manifest';
}

export interface TagsTable {
  repository: string;
  name: string;
  digest: string;
  updated_at: number;
}

export interface UploadsTable {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
  created_at: number;
  updated_at: number;
  /** Who opened the session: they may finish it after their registry token expires. */
  owner_iam_id: string | null;
  /** Where the blob store staged the bytes, in its own JSON. */
  store_state: string;
  /** Moves on with every recorded change: a request records its chunk only if the row is still as it read it. */
  version: Generated<number>;
  /** When a completion began; appends are refused from then on. */
  sealed_at: number | null;
  /** The last number handed out to name a request's files or parts. */
  reserved: Generated<number>;
}

/** A namespace: the first component of repository names, owned by one account in one region. */
export interface NamespacesTable {
  region: string;
  name: string;
  account_id: string;
  resource_group: string | null;
  created_at: number;
  updated_at: number;
}

export interface AccountsTable {
  id: string;
  name: string;
  owner_iam_id: string;
  created_at: number;
  /** Bumped with every change to the account's policies: caches of them compare it. */
  policy_version: number;
  /** 1 for the operator's account (the first one), whose owner may create further accounts. */
  operator: number;
}

export interface UsersTable {
  iam_id: string;
  account_id: string;
  email: string;
  name: string;
  created_at: number;
  /** IBM's user states; Berth's users are ACTIVE from the start. */
  state: string;
}

export interface ServiceIdsTable {
  id: string;
  iam_id: string;
  account_id: string;
  name: string;
  description: string | null;
  /** 0 or 1: SQLite binds no booleans. */
  locked: number;
  /** Bumped on every change; the entity tag is derived from it. */
  version: number;
  created_by: string;
  created_at: number;
  modified_at: number;
  /** JSON array of CRNs, echoed as sent. */
  unique_instance_crns: string;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  iam_id: string;
  name: string;
  description: string | null;
  secret_hash: string;
  /** 0 or 1: SQLite binds no booleans. */
  locked: number;
  disabled: number;
  expires_at: number | null;
  version: number;
  created_by: string;
  created_at: number;
  modified_at: number;
  last_authn_at: number | null;
  authn_count: number;
  /** Recorded and echoed: Berth never looks for leaked keys itself. */
  support_sessions: number;
  action_when_leaked: string;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  iam_id: string;
  /** The API key whose exchange started this session; deleting or disabling it ends the session. */
  api_key_id: string;
  client_id: string;
  created_at: number;
  expires_at: number;
}

export interface PoliciesTable {
  id: string;
  account_id: string;
  type: string;
  /** JSON text, exactly as the client sent it. */
  subjects: string;
  /** JSON text: `[{role_id}]`. */
  roles: string;
  /** JSON text, exactly as the client sent it. */
  resources: string;
  description: string | null;
  /** The iam_id of the one subject, for looking up a subject's policies. */
  subject_iam_id: string | null;
  /** `active`, or `deleted` (a deleted policy grants nothing but stays readable). */
  state: string;
  /** Bumped on every replace; the ETag is derived from it. */
  version: number;
  created_by_id: string;
  created_at: number;
  last_modified_by_id: string;
  last_modified_at: number;
}

/** Who did what to an API key or service ID, for `include_history`. */
export interface IdentityHistoryTable {
  id: string;
  entity_id: string;
  at: number;
  iam_id: string;
  iam_id_account: string;
  action: string;
  /** JSON array of strings. */
  params: string;
  message: string;
}

/** One audit event in its account's hash chain (see src/audit/chain.ts). */
export interface AuditEventsTable {
  account_id: string;
  seq: number;
  at: number;
  action: string;
  outcome: string;
  reason: string | null;
  principal_id: string | null;
  principal_name: string | null;
  target: string | null;
  namespace: string | null;
  client: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

/** The last event of each account's chain: what the next one links to. */
export interface AuditChainsTable {
  account_id: string;
  seq: number;
  hash: string;
  /** The last event retention removed (0 and GENESIS: none yet): the remaining events start after it. */
  anchor_seq: Generated<number>;
  anchor_hash: Generated<string>;
}

/** A deleted image: its manifest, as it was, and its tags, until it is restored or expires. */
export interface TrashTable {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  content: Buffer;
  subject: string | null;
  artifact_type: string | null;
  annotations: string | null;
  /** When the manifest was first pushed. */
  created_at: number;
  /** JSON array of the tag names it had. */
  tags: string;
  trashed_at: number;
  expires_at: number;
}

/** An account's plan and quotas in one region; limits in bytes, -1 for none. */
export interface QuotasTable {
  account_id: string;
  region: string;
  plan: string;
  /** The quota the account set itself (-1: none); the plan's limit applies as well. */
  storage_limit: number;
  traffic_limit: number;
  /** Bytes pulled in `traffic_month` (`YYYY-MM`, UTC). */
  traffic_used: number;
  traffic_month: string;
  updated_at: number;
}

/** Who runs a background job now: a node holds the lease until `expires_at` unless it renews it. */
export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** One row per one-time setup step done; the primary key lets only one node do it. */
export interface BootstrapTable {
  name: string;
  created_at: number;
}

export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
  namespaces: NamespacesTable;
  accounts: AccountsTable;
  users: UsersTable;
  service_ids: ServiceIdsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
  refresh_tokens: RefreshTokensTable;
  policies: PoliciesTable;
  identity_history: IdentityHistoryTable;
  bootstrap: BootstrapTable;
  trash: TrashTable;
  quotas: QuotasTable;
  job_leases: JobLeasesTable;
  audit_events: AuditEventsTable;
  audit_chains: AuditChainsTable;
}
