import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { TlsFiles } from '../config/config.js';

/** The certificate could not be read or does not fit its key. */
export class TlsError extends Error {}

/**
 * The certificate every listener serves. Read from its files at start (a problem stops the start)
 * and again on `reload()` (SIGHUP): a renewed certificate is served to new connections without a
 * restart, and one that cannot be read leaves the current one in place.
 */
export class TlsCertificate {
  private current: { cert: Buffer; key: Buffer };
  private readonly servers: HttpsServer[] = [];

  constructor(private readonly files: TlsFiles) {
    this.current = TlsCertificate.read(files);
  }

  get options(): { cert: Buffer; key: Buffer } {
    return this.current;
  }

  /** A listener to hand renewed certificates to. */
  serve(server: HttpsServer): void {
    this.servers.push(server);
  }

  reload(): void {
    const next = TlsCertificate.read(this.files);
    for (const server of this.servers) server.setSecureContext(next);
    this.current = next;
  }

  private static read(files: TlsFiles): { cert: Buffer; key: Buffer } {
    const load = (path: string, what: string) => {
      try {
        return readFileSync(path);
      } catch (error) {
        throw new TlsError(`cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    };
    const pair = { cert: load(files.certPath, 'certificate'), key: load(files.keyPath, 'key') };
    try {
      // Fails here, not at the first handshake, when the files are not PEM or do not match.
      createSecureContext(pair);
    } catch (error) {
      throw new TlsError(`the TLS certificate ${files.certPath} and key ${files.keyPath} do not make a usable pair: ${(error as Error).message}`);
    }
    return pair;
  }
}

