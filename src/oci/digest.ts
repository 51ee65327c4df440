import { createHash, type Hash } from 'node:crypto';

/** The digest algorithms Berth verifies, with the length of their hex encoding. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

/** A parsed `algorithm:hex` digest. `value` is the canonical string form. */
export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  readonly value: string;
}

// The spec's grammar: algorithm-component (separator component)* ":" encoded.
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export type DigestParseResult =
  | { ok: true; digest: Digest }
  | { ok: false; reason: string };

export function parseDigest(text: string): DigestParseResult {
  if (!GRAMMAR.test(text)) return { ok: false, reason: 'not of the form algorithm:encoded' };
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  if (!(algorithm in ALGORITHMS)) return { ok: false, reason: `unsupported digest algorithm "${algorithm}"` };
  const length = ALGORITHMS[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return { ok: false, reason: `${algorithm} digests are ${length} lowercase hex characters` };
  }
  return { ok: true, digest: { algorithm: algorithm as DigestAlgorithm, hex, value: text } };
}

export function createDigester(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
