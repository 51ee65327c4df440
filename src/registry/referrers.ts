import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { RegistryContext } from './context.js';

export interface ReferrersResult {
  descriptors: Descriptor[];
  /** True when an artifactType filter was applied (the response then names it in OCI-Filters-Applied). */
  filtered: boolean;
}

/** Manifests in a repository whose `subject` is the given digest. Never "not found": an empty list. */
export class Referrers {
  constructor(private readonly ctx: RegistryContext) {}

  async list(repository: string, subject: Digest, artifactType?: string): Promise<ReferrersResult> {
    let query = this.ctx.db
      .selectFrom('manifests')
      .select(['digest', 'media_type', 'size', 'artifact_type', 'annotations'])
      .where('repository', '=', repository)
      .where('subject', '=', subject.value)
      .orderBy('digest');
    if (artifactType !== undefined) query = query.where('artifact_type', '=', artifactType);
    const rows = await query.execute();
    const descriptors = rows.map((row) => {
      const descriptor: Descriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
      if (row.artifact_type !== null) descriptor.artifactType = row.artifact_type;
      if (row.annotations !== null) descriptor.annotations = JSON.parse(row.annotations) as Record<string, string>;
      return descriptor;
    });
    return { descriptors, filtered: artifactType !== undefined };
  }
}
