import { Blobs } from './blobs.js';
import { Catalog } from './catalog.js';
import type { RegistryContext } from './context.js';
import { Images } from './images.js';
import { Manifests } from './manifests.js';
import { Namespaces } from './namespaces.js';
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
  namespaces: Namespaces;
  images: Images;
}

export function createRegistry(ctx: RegistryContext): Registry {
  const blobs = new Blobs(ctx);
  const uploads = new Uploads(ctx, blobs);
  const manifests = new Manifests(ctx);
  return {
    blobs,
    uploads,
    manifests,
    tags: new Tags(ctx),
    catalog: new Catalog(ctx),
    referrers: new Referrers(ctx),
    namespaces: new Namespaces(ctx, uploads),
    images: new Images(ctx, blobs, manifests),
  };
}
