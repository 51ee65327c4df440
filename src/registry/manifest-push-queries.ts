import { inJsonArray, PreparedQuery } from '../db/prepared.js';

/**
 * The statements a manifest push runs in its transaction, compiled once (src/db/prepared.ts). On
 * SQLite that transaction holds the database's one write lock, shared by every worker and node on
 * the file: what it spends building queries, every other writer spends waiting. Lists of digests
 * go as one JSON parameter, so one prepared text serves a manifest of any size.
 */

/** Sizes of the blobs named, locked against the collector (PostgreSQL) in digest order. */
export const blobSizes = new PreparedQuery((db, p: { digests: string }, dialect) => {
  const query = db.selectFrom('blobs').select(['digest', 'size']).where(inJsonArray('digest', p.digests, dialect)).orderBy('digest');
  return dialect === 'postgres' ? query.forShare() : query;
});

/** Which of the blobs named the repository links to (they were pushed or mounted there). */
export const linkedBlobs = new PreparedQuery((db, p: { repository: string; digests: string }, dialect) =>
  db.selectFrom('repository_blobs').select('digest').where('repository', '=', p.repository).where(inJsonArray('digest', p.digests, dialect)),
);

export const insertManifest = new PreparedQuery(
  (
    db,
    p: {
      repository: string;
      digest: string;
      mediaType: string;
      size: number;
      content: Buffer;
      subject: string | null;
      artifactType: string | null;
      annotations: string | null;
      now: number;
    },
  ) =>
    db
      .insertInto('manifests')
      .values({
        repository: p.repository,
        digest: p.digest,
        media_type: p.mediaType,
        size: p.size,
        content: p.content,
        subject: p.subject,
        artifact_type: p.artifactType,
        annotations: p.annotations,
        created_at: p.now,
      })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing()),
);

export const insertReference = new PreparedQuery((db, p: { repository: string; manifest: string; reference: string; kind: 'blob' | 'manifest' }) =>
  db
    .insertInto('manifest_references')
    .values({ repository: p.repository, manifest_digest: p.manifest, reference_digest: p.reference, kind: p.kind })
    .onConflict((oc) => oc.columns(['repository', 'manifest_digest', 'reference_digest']).doNothing()),
);

/** The blobs a manifest names are in use again: the collector leaves their links alone. */
export const keepLinks = new PreparedQuery((db, p: { repository: string; digests: string }, dialect) =>
  db
    .updateTable('repository_blobs')
    .set({ orphaned_at: null })
    .where('repository', '=', p.repository)
    .where(inJsonArray('digest', p.digests, dialect))
    .where('orphaned_at', 'is not', null),
);

export const upsertTag = new PreparedQuery((db, p: { repository: string; name: string; digest: string; now: number }) =>
  db
    .insertInto('tags')
    .values({ repository: p.repository, name: p.name, digest: p.digest, updated_at: p.now })
    .onConflict((oc) => oc.columns(['repository', 'name']).doUpdateSet({ digest: p.digest, updated_at: p.now })),
);
