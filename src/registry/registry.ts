import type { PlanName } from '../config/config.js';
import { Blobs } from './blobs.js';
import { Catalog } from './catalog.js';
import { Collector } from './collector.js';
import type { RegistryContext } from './context.js';
import { Images } from './images.js';
import { Manifests } from './manifests.js';
import { Namespaces } from './namespaces.js';
import { Quotas } from './quotas.js';
import { Referrers } from './referrers.js';
import { Tags } from './tags.js';
import { Trash } from './trash.js';
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
  trash: Trash;
  quotas: Quotas;
  collector: Collector;
}

/** The lifecycle settings the registry's services need. */
export interface RegistrySettings {
  trashDays: number;
  defaultPlan: PlanName;
  /** BERTH_GC_DELAY: the grace an unreferenced blob or link gets. */
  gcDelayMs: number;
  uploadIdleMs: number;
}

export function createRegistry(ctx: RegistryContext, settings: RegistrySettings): Registry {
  const quotas = new Quotas(ctx, settings.defaultPlan);
  const blobs = new Blobs(ctx, quotas);
  const uploads = new Uploads(ctx, blobs, quotas);
  const manifests = new Manifests(ctx, quotas);
  const trash = new Trash(ctx, settings.trashDays);
  return {
    blobs,
    uploads,
    manifests,
    tags: new Tags(ctx),
    catalog: new Catalog(ctx),
    referrers: new Referrers(ctx),
    namespaces: new Namespaces(ctx, uploads, quotas),
    images: new Images(ctx, blobs, manifests),
    trash,
    quotas,
    collector: new Collector(ctx, uploads, trash, { delayMs: settings.gcDelayMs, uploadIdleMs: settings.uploadIdleMs }),
  };
}
