import { Blobs } from './blobs.js';
import { Catalog } from './catalog.js';
import type { RegistryContext } from './context.js';
import { Manifests } from './manifests.js';
import { Referrers } from './referrers.js';
import { Tags } from './tags.js';
import { Uploads } from './uploads.js';

/** The registry's services over one database and blob store. No HTTP here. */
export interface Registry {
  blobs: Blobs;
  uploads: Uploads;
  manifests: Manifests;
  tags: Tags;
  catalog: Catalog;
  referrers: Referrers;
}

export function createRegistry(ctx: RegistryContext): Registry {
  const blobs = new Blobs(ctx);
  return {
    blobs,
    uploads: new Uploads(ctx, blobs),
    manifests: new Manifests(ctx),
    tags: new Tags(ctx),
    catalog: new Catalog(ctx),
    referrers: new Referrers(ctx),
  };
}
