/** The URLs the registry hands out in Location headers. */
export interface Locations {
  blob(name: string, digest: string): string;
  manifest(name: string, digest: string): string;
  upload(name: string, id: string): string;
}

/**
 * Locations under `base`, the region's public URL. Without one they are relative, which survives
 * TLS-terminating proxies: a client resolves them against the URL it used.
 */
export function locationsUnder(base = ''): Locations {
  return {
    blob: (name, digest) => `${base}/v2/${name}/blobs/${digest}`,
    manifest: (name, digest) => `${base}/v2/${name}/manifests/${digest}`,
    upload: (name, id) => `${base}/v2/${name}/blobs/uploads/${id}`,
  };
}
