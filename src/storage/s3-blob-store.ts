import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Digest } from '../oci/digest.js';
import {
  StorageFullError,
  UploadMissingError,
  type AppendOptions,
  type AppendResult,
  type BlobReader,
  type BlobStore,
  type ByteRange,
  type UploadState,
} from './blob-store.js';
import { partBody, PartCutter, partSizeAfter, Slots, type PartBytes } from './s3-parts.js';
import { checkBucket, createS3Client, type S3Settings } from './s3-client.js';
import { parseS3State, type S3UploadState } from './s3-upload-state.js';
import { streamReader } from './stream-reader.js';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;

interface UploadedPart {
  number: number;
  etag: string;
  size: number;
}

/**
 * Where the `wanted` parts lie in the object all `parts` make, adjacent ones joined: each range is
 * then at least a part (5 MiB), as a part copy must be, but for the last, which is the tail.
 */
export function recordedRanges(parts: UploadedPart[], wanted: Set<number>): ByteRange[] {
  const ranges: ByteRange[] = [];
  let offset = 0;
  let previousWanted = false;
  for (const part of parts) {
    if (wanted.has(part.number)) {
      const last = ranges[ranges.length - 1];
      if (previousWanted && last) last.end += part.size;
      else ranges.push({ start: offset, end: offset + part.size - 1 });
      previousWanted = true;
    } else {
      previousWanted = false;
    }
    offset += part.size;
  }
  return ranges;
}
/** CopyObject's limit: larger objects are copied part by part. */
const COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;
/** Blobs up to this size are committed by a GET and a PUT rather than a server-side copy. */
const SMALL_BLOB = 1024 * 1024;

export interface S3BlobStoreOptions {
  /** Size of the multipart parts an upload is cut into (at least 5 MiB, S3's minimum). */
  partBytes?: number;
  /** Parts of one request sent at once; each holds a part in memory. */
  partsInFlight?: number;
  /** Parts being filled or sent by all requests together (8): bounds the memory of many concurrent pushes. */
  totalPartsInFlight?: number;
  /** Largest blob committed by one CopyObject (S3's limit, 5 GiB); larger ones are copied part by part. */
  copyLimitBytes?: number;
  /** Size of those copied parts (1 GiB). */
  copyPartBytes?: number;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

const SEND_ATTEMPTS = 3;
/** Bytes a request gathers before its part needs one of the process's slots. */
const SLOT_AFTER = 1024 * 1024;

/** A failure worth one more try: the network, throttling or the server, not the request. */
function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return status >= 500 || status === 429;
  const code = (error as { code?: string }).code;
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN'].includes(code ?? '') || (error as { name?: string }).name === 'TimeoutError';
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return statusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload';
}

/** An object store over its quota (RGW and S3-compatible services answer QuotaExceeded) is full. */
function asStorageFull(error: unknown): unknown {
  const name = (error as { name?: string; Code?: string }).name;
  return name === 'QuotaExceeded' ? new StorageFullError('the object store refused the bytes: its quota is exceeded') : error;
}

/**
 * Blobs in an S3 bucket at `<prefix>blobs/<algorithm>/<two hex>/<hex>`. An upload is a multipart
 * upload at `<prefix>uploads/<id>/data` whose parts are cut from the request bodies in fixed sizes;
 * the bytes after the last whole part wait in a small "tail" object until the next chunk (or the
 * completion) brings them into a part, so clients may send chunks of any size.
 */
export class S3BlobStore implements BlobStore {
  private readonly partBytes: number;
  private readonly partsInFlight: number;
  private readonly slots: Slots;
  private readonly copyLimit: number;
  private readonly copyPart: number;

  constructor(
    private readonly client: S3Client,
    private readonly settings: S3Settings,
    options: S3BlobStoreOptions = {},
  ) {
    this.partBytes = Math.max(options.partBytes ?? 5 * 1024 * 1024, 5 * 1024 * 1024);
    this.partsInFlight = Math.max(options.partsInFlight ?? 2, 1);
    this.slots = new Slots(Math.max(options.totalPartsInFlight ?? 8, 1));
    this.copyLimit = options.copyLimitBytes ?? COPY_LIMIT;
    this.copyPart = Math.max(options.copyPartBytes ?? COPY_PART, 5 * 1024 * 1024);
  }

  /** A store on `settings`, checked at once: a wrong endpoint, bucket or credential fails here. */
  static async open(settings: S3Settings, options: S3BlobStoreOptions = {}): Promise<S3BlobStore> {
    const client = createS3Client(settings);
    try {
      await checkBucket(client, settings);
    } catch (error) {
      client.destroy();
      throw error;
    }
    return new S3BlobStore(client, settings, options);
  }

  /** The size parts are cut at: what a client should send at least per chunk. */
  get minimumChunk(): number {
    return this.partBytes;
  }

  close(): void {
    this.client.destroy();
  }

  private get bucket(): string {
    return this.settings.bucket;
  }

  private blobKey(digest: Digest): string {
    return `${this.settings.prefix}blobs/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`;
  }

  private uploadPrefix(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${id}`);
    return `${this.settings.prefix}uploads/${id}/`;
  }

  /** A key of this upload's own; a state from the database naming any other is refused. */
  private ownKey(id: string, key: string): string {
    if (!key.startsWith(this.uploadPrefix(id)) || key.includes('..')) throw new Error(`invalid staged key ${key} for upload ${id}`);
    return key;
  }

  async stat(digest: Digest): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async openReader(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined> {
    const body = await this.getBody(this.blobKey(digest), range);
    return body && streamReader(body);
  }

  private async getBody(key: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return object.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      // An empty object has no byte 0: a range over it reads nothing.
      if (statusOf(error) === 416) return undefined;
      throw error;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
  }

  async signedUrl(digest: Digest, seconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }), { expiresIn: seconds });
  }

  async createUpload(id: string): Promise<UploadState> {
    this.uploadPrefix(id);
    // Nothing is written until bytes come: an upload without bytes costs the store nothing.
    return JSON.stringify({ parts: [] } satisfies S3UploadState);
  }

  async append(id: string, state: UploadState, source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<AppendResult> {
    const before = parseS3State(state);
    if (before.sealed !== undefined) throw new Error(`upload ${id} is sealed`);
    const after: S3UploadState = { ...before, parts: [...before.parts] };
    let cut = before.parts.length;
    const cutter = new PartCutter(() => partSizeAfter(this.partBytes, cut));
    if (before.tail && !(await this.readInto(this.ownKey(id, before.tail[0]), cutter))) throw new UploadMissingError(id);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    // Numbers are drawn in the order of the bytes: parts in flight may finish in any order.
    const send = async (part: PartBytes, number: number): Promise<void> => {
      if (number > 10_000) throw new Error('the upload has more parts than S3 allows (10,000)');
      const sent = await this.sendBytes(part, (Body) =>
        this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: this.dataKey(id), UploadId: after.multipart, PartNumber: number, Body, ContentLength: part.length }),
        ),
      );
      after.parts.push([number, sent.ETag ?? '', part.length]);
    };
    let written = 0;
    // A slot counts a part's bytes from the first MiB gathered until the part is sent, so that
    // parts being filled are bounded too; smaller uploads and tails never wait for one.
    let holding = false;
    const hold = async () => {
      if (holding) return;
      await this.slots.acquire();
      holding = true;
    };
    try {
      for await (const chunk of source) {
        options.observe?.(chunk);
        written += chunk.length;
        cutter.push(chunk);
        if (cutter.length >= SLOT_AFTER) await hold();
        for (let part = cutter.take(); part; part = cutter.take()) {
          cut += 1;
          after.multipart ??= await this.startMultipart(id);
          const number = await options.reserve();
          await hold();
          holding = false; // the slot goes with the part
          const sending: Promise<void> = send(part, number)
            .catch((error: unknown) => {
              failure ??= error;
            })
            .finally(() => this.slots.release());
          inFlight.add(sending);
          void sending.finally(() => inFlight.delete(sending));
          while (inFlight.size >= this.partsInFlight) await Promise.race(inFlight);
          if (failure !== undefined) throw failure;
        }
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      after.parts.sort((a, b) => a[0] - b[0]);
      const rest = cutter.rest();
      delete after.tail;
      if (rest.length > 0) {
        const key = `${this.uploadPrefix(id)}tail-${randomUUID()}`;
        await this.sendBytes(rest, (Body) => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body, ContentLength: rest.length })));
        after.tail = [key, rest.length];
      }
    } catch (error) {
      await Promise.all(inFlight);
      // Parts of this request are never listed, so completion leaves them out; a multipart upload
      // this request began is abandoned whole.
      if (after.multipart !== before.multipart && after.multipart !== undefined) await this.abortMultipart(id, after.multipart).catch(() => undefined);
      // The multipart upload is gone: the upload was aborted or committed meanwhile.
      if (isNotFound(error)) throw new UploadMissingError(id);
      throw asStorageFull(error);
    } finally {
      if (holding) this.slots.release();
    }
    if (written === 0) return { written, state };
    return { written, state: JSON.stringify(after) };
  }

  async release(id: string, unused: UploadState, kept: UploadState | undefined): Promise<void> {
    const gone = parseS3State(unused);
    const keep = kept === undefined ? undefined : parseS3State(kept);
    if (gone.tail && gone.tail[0] !== keep?.tail?.[0]) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.ownKey(id, gone.tail[0]) }));
    }
    if (gone.multipart && gone.multipart !== keep?.multipart) await this.abortMultipart(id, gone.multipart);
  }

  async seal(id: string, state: UploadState, options: Pick<AppendOptions, 'reserve'>): Promise<UploadState> {
    const upload = parseS3State(state);
    if (upload.sealed) return state;
    const size = upload.parts.reduce((sum, part) => sum + part[2], 0) + (upload.tail?.[1] ?? 0);
    const sealed = (key: string) => JSON.stringify({ parts: [], sealed: key, size } satisfies S3UploadState);
    const data = this.dataKey(id);
    if (upload.multipart === undefined) {
      // Less than a part: the tail object is the blob's bytes already.
      if (upload.tail) return sealed(this.ownKey(id, upload.tail[0]));
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: data, Body: new Uint8Array(0), ContentLength: 0 }));
      return sealed(data);
    }
    const parts = upload.parts.map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    const clean = `${this.uploadPrefix(id)}clean`;
    let key = data;
    try {
      if (upload.tail) {
        const number = await options.reserve();
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: data,
            UploadId: upload.multipart,
            PartNumber: number,
            CopySource: this.copySource(this.ownKey(id, upload.tail[0])),
          }),
        );
        parts.push({ PartNumber: number, ETag: copied.CopyPartResult?.ETag ?? '' });
      }
      // Parts of requests that were never recorded (a client gone mid-chunk, the loser of a race, a
      // node that died) are in the multipart upload too. S3 leaves unlisted parts out; Ceph RGW
      // refuses to complete unless every part is listed. So with strays, all parts are completed
      // and the recorded ones copied out of the result.
      const uploaded = await this.uploadedParts(data, upload.multipart);
      const wanted = new Set(parts.map((part) => part.PartNumber));
      if (uploaded.every((part) => wanted.has(part.number))) {
        await this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: data, UploadId: upload.multipart, MultipartUpload: { Parts: parts } }),
        );
      } else {
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: data,
            UploadId: upload.multipart,
            MultipartUpload: { Parts: uploaded.map(({ number, etag }) => ({ PartNumber: number, ETag: etag })) },
          }),
        );
        await this.copyRanges(data, clean, recordedRanges(uploaded, wanted));
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: data }));
        key = clean;
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // A completion that died after S3 assembled the object left it in place: use it.
      if ((await this.sizeOf(clean)) === size) key = clean;
      else if ((await this.sizeOf(data)) !== size) throw new UploadMissingError(id);
    }
    // The tail is a part of the object now.
    if (upload.tail) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.ownKey(id, upload.tail[0]) }));
    return sealed(key);
  }

  /** Every part the object store holds for a multipart upload, in order. */
  private async uploadedParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const page = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }));
      for (const part of page.Parts ?? []) parts.push({ number: part.PartNumber!, etag: part.ETag ?? '', size: part.Size ?? 0 });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts.sort((a, b) => a.number - b.number);
  }

  /** Builds `to` from byte ranges of `from`, by server-side part copies. */
  private async copyRanges(from: string, to: string, ranges: ByteRange[]): Promise<void> {
    const started = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to, ContentType: 'application/octet-stream' }));
    const uploadId = started.UploadId!;
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      for (const [index, range] of ranges.entries()) {
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: this.copySource(from),
            CopySourceRange: `bytes=${range.start}-${range.end}`,
          }),
        );
        parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag ?? '' });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  async readUpload(id: string, sealed: UploadState): Promise<Readable> {
    const key = this.sealedKey(id, sealed);
    const body = await this.getBody(key);
    if (!body) {
      // An empty object read by range is "missing" above; read whole it is just empty.
      throw new UploadMissingError(id);
    }
    return body;
  }

  async commit(id: string, sealed: UploadState, digest: Digest): Promise<void> {
    const from = this.sealedKey(id, sealed);
    const size = parseS3State(sealed).size ?? (await this.sizeOf(from));
    if (size === undefined) throw new UploadMissingError(id);
    try {
      if (size <= SMALL_BLOB) {
        // A small blob is cheaper to write again than to copy (Ceph RGW: ~15 ms against ~55 ms).
        const bytes = await this.readAll(from);
        if (!bytes) throw new UploadMissingError(id);
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest), Body: bytes, ContentLength: bytes.length }));
      } else if (size <= this.copyLimit) {
        await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest), CopySource: this.copySource(from) }));
      } else {
        await this.copyInParts(from, this.blobKey(digest), size);
      }
    } catch (error) {
      if (isNotFound(error)) throw new UploadMissingError(id);
      throw error;
    }
    await this.deleteKeys([from]);
  }

  async abortUpload(id: string): Promise<void> {
    const prefix = this.uploadPrefix(id);
    for await (const upload of this.multipartUploads(prefix)) await this.abortMultipart(id, upload.id);
    let keys: string[] = [];
    for await (const object of this.objects(prefix)) {
      keys.push(object.key);
      if (keys.length === 1000) {
        await this.deleteKeys(keys);
        keys = [];
      }
    }
    if (keys.length > 0) await this.deleteKeys(keys);
  }

  async *stagedUploads(before: number): AsyncIterable<string> {
    const prefix = `${this.settings.prefix}uploads/`;
    const newest = new Map<string, number>();
    const note = (key: string, at: number) => {
      const id = key.slice(prefix.length).split('/')[0]!;
      newest.set(id, Math.max(newest.get(id) ?? 0, at));
    };
    for await (const object of this.objects(prefix)) note(object.key, object.modified);
    for await (const upload of this.multipartUploads(prefix)) note(upload.key, upload.started);
    for (const [id, at] of newest) if (UPLOAD_ID.test(id) && at < before) yield id;
  }

  private dataKey(id: string): string {
    return `${this.uploadPrefix(id)}data`;
  }

  private sealedKey(id: string, sealed: UploadState): string {
    const key = parseS3State(sealed).sealed;
    if (key === undefined) throw new Error(`upload ${id} must be sealed first`);
    return this.ownKey(id, key);
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async sizeOf(key: string): Promise<number | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async startMultipart(id: string): Promise<string> {
    const started = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.dataKey(id), ContentType: 'application/octet-stream' }));
    if (!started.UploadId) throw new Error('the object store started a multipart upload without an id');
    return started.UploadId;
  }

  private async abortMultipart(id: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.dataKey(id), UploadId: uploadId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * Sends bytes as a stream: the SDK then neither copies nor hashes them (the registry checks the
   * digest itself), but it cannot send a stream twice, so a transient failure is retried here.
   */
  private async sendBytes<T>(bytes: PartBytes, request: (body: Readable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(partBody(bytes));
      } catch (error) {
        if (attempt >= SEND_ATTEMPTS || !isTransient(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /** Pushes an object's bytes into `cutter`; false when it is missing. */
  private async readInto(key: string, cutter: PartCutter): Promise<boolean> {
    const body = await this.getBody(key);
    if (!body) return false;
    for await (const chunk of body) cutter.push(chunk as Buffer);
    return true;
  }

  private async readAll(key: string): Promise<Buffer | undefined> {
    const body = await this.getBody(key);
    if (!body) return undefined;
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  private async copyInParts(from: string, to: string, size: number): Promise<void> {
    const started = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to, ContentType: 'application/octet-stream' }));
    const uploadId = started.UploadId!;
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      for (let start = 0, number = 1; start < size; start += this.copyPart, number++) {
        const end = Math.min(start + this.copyPart, size) - 1;
        const copied = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId, PartNumber: number, CopySource: this.copySource(from), CopySourceRange: `bytes=${start}-${end}` }),
        );
        parts.push({ PartNumber: number, ETag: copied.CopyPartResult?.ETag ?? '' });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
  }

  private async *objects(prefix: string): AsyncIterable<{ key: string; modified: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) if (object.Key) yield { key: object.Key, modified: object.LastModified?.getTime() ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async *multipartUploads(prefix: string): AsyncIterable<{ key: string; id: string; started: number }> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(idMarker ? { UploadIdMarker: idMarker } : {}) }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.UploadId) yield { key: upload.Key, id: upload.UploadId, started: upload.Initiated?.getTime() ?? 0 };
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }
}
