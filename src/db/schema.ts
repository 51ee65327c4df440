/** Table types. Times are milliseconds since the epoch; sizes are bytes. */
export interface RepositoriesTable {
  name: string;
  created_at: number;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
}

/** A repository reaches a blob only through one of these rows. */
export interface RepositoryBlobsTable {
  repository: string;
  digest: string;
  created_at: number;
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
}

export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
}
