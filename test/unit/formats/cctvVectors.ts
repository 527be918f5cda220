// The C2SP age test vectors (cctv-age, a pinned devDependency), parsed: metadata lines, then the file.
import { inflateSync } from 'node:zlib';
import * as vectors from 'cctv-age';

export interface Vector { name: string; meta: Map<string, string[]>; file: Buffer }

export function parseVector(name: string, bytes: Uint8Array): Vector {
  const buf = Buffer.from(bytes);
  const split = buf.indexOf('\n\n');
  const meta = new Map<string, string[]>();
  for (const line of buf.subarray(0, split).toString('utf8').split('\n')) {
    const at = line.indexOf(': ');
    meta.set(line.slice(0, at), [...(meta.get(line.slice(0, at)) ?? []), line.slice(at + 2)]);
  }
  let file = buf.subarray(split + 2);
  if (meta.get('compressed')?.[0] === 'zlib') file = inflateSync(file);
  return { name, meta, file };
}

export const allVectors: Vector[] = Object.entries(vectors as unknown as Record<string, Uint8Array>)
  .filter(([name, v]) => name !== 'default' && v instanceof Uint8Array)
  .map(([name, v]) => parseVector(name, v));
