// The agent's wire format: frames of [u32 BE json length][u32 BE blob length][UTF-8 JSON][blob].
// The JSON carries the request or reply (always with `v`, the protocol version); the blob carries key
// bytes, so they travel as a Buffer that can be wiped instead of as a JavaScript string that cannot.
export const MAX_JSON_BYTES = 128 * 1024;  // 16 stanzas of 2 KiB in base64, with room to spare
export const MAX_BLOB_BYTES = 128 * 1024; // a data key is 32 bytes; dotenvx values (dotenvx-decrypt) come back in batches below this
const HEAD = 8;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export interface Frame { json: unknown; blob: Buffer }

export function encodeFrame(json: unknown, blob: Uint8Array = new Uint8Array(0)): Buffer {
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  if (text.length > MAX_JSON_BYTES || blob.length > MAX_BLOB_BYTES) throw new FrameError('message too large');
  const out = Buffer.alloc(HEAD + text.length + blob.length);
  out.writeUInt32BE(text.length, 0);
  out.writeUInt32BE(blob.length, 4);
  text.copy(out, HEAD);
  out.set(blob, HEAD + text.length);
  return out;
}

/** Collects bytes and hands out whole frames; refuses oversized ones before buffering them. */
export class FrameReader {
  private pending: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.size < HEAD) return frames;
      const all = this.take();
      const jsonLength = all.readUInt32BE(0);
      const blobLength = all.readUInt32BE(4);
      if (jsonLength > MAX_JSON_BYTES || blobLength > MAX_BLOB_BYTES) throw new FrameError('message too large');
      const total = HEAD + jsonLength + blobLength;
      if (all.length < total) return frames;
      let json: unknown;
      try { json = JSON.parse(all.subarray(HEAD, HEAD + jsonLength).toString('utf8')); } catch { throw new FrameError('malformed message'); }
      const blob = Buffer.from(all.subarray(HEAD + jsonLength, total));
      all.fill(0, HEAD + jsonLength, total);
      const rest = Buffer.from(all.subarray(total));
      this.pending = rest.length ? [rest] : [];
      this.size = rest.length;
      frames.push({ json, blob });
    }
  }

  private take(): Buffer {
    if (this.pending.length !== 1) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!;
  }

  /** Drops (and wipes) anything buffered. */
  clear(): void {
    for (const b of this.pending) b.fill(0);
    this.pending = [];
    this.size = 0;
  }
}
