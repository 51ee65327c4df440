/** Relative URLs the registry hands out; relative so they survive TLS-terminating proxies. */
export const locations = {
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  manifest: (name: string, digest: string) => `/v2/${name}/manifests/${digest}`,
  upload: (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`,
};
