// Mutations of valid inputs for the fuzz targets: bit flips, byte sets, truncation, insertions, deletions,
// and frame-level edits (swap, duplicate, drop) for .enc files whose frame layout is known.
import fc from 'fast-check';

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'swapFrames'; a: number; b: number }
  | { op: 'duplicateFrame'; a: number }
  | { op: 'dropFrame'; a: number };

const pos = fc.nat({ max: 1 << 30 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swapFrames' as const), a: pos, b: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicateFrame' as const), a: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dropFrame' as const), a: pos }) },
);

/** Where each frame of a file starts and ends (absent for non-.enc inputs: frame edits become flips). */
export interface FrameLayout { frames: [number, number][] }

export function encFrameLayout(headerLength: number, chunkSize: number, size: number): FrameLayout {
  const frames: [number, number][] = [];
  let at = headerLength;
  while (at < size) {
    const end = Math.min(size, at + chunkSize + 17);
    frames.push([at, size - at <= chunkSize + 20 ? size : end]);
    at = frames[frames.length - 1]![1];
  }
  return { frames };
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Applies one mutation; positions are taken modulo the input's length. */
export function mutate(input: Uint8Array, m: Mutation, layout?: FrameLayout): Uint8Array {
  const n = input.length;
  const frames = layout?.frames ?? [];
  const at = n === 0 ? 0 : ('at' in m ? m.at % n : 0);
  switch (m.op) {
    case 'flip': { if (!n) return input; const out = Uint8Array.from(input); out[at] ^= 1 << m.bit; return out; }
    case 'set': { if (!n) return input; const out = Uint8Array.from(input); out[at] = m.value; return out; }
    case 'truncate': return input.slice(0, at);
    case 'insert': return cat(input.subarray(0, at), m.bytes, input.subarray(at));
    case 'delete': return cat(input.subarray(0, at), input.subarray(Math.min(n, at + m.length)));
    case 'swapFrames': {
      if (frames.length < 2) return mutate(input, { op: 'flip', at: m.a, bit: m.b % 8 });
      let [i, j] = [m.a % frames.length, m.b % frames.length];
      if (i === j) j = (i + 1) % frames.length;
      if (i > j) [i, j] = [j, i];
      const [fi, fj] = [frames[i]!, frames[j]!];
      return cat(input.subarray(0, fi[0]), input.subarray(fj[0], fj[1]), input.subarray(fi[1], fj[0]), input.subarray(fi[0], fi[1]), input.subarray(fj[1]));
    }
    case 'duplicateFrame': {
      if (!frames.length) return mutate(input, { op: 'flip', at: m.a, bit: 0 });
      const f = frames[m.a % frames.length]!;
      return cat(input.subarray(0, f[1]), input.subarray(f[0], f[1]), input.subarray(f[1]));
    }
    case 'dropFrame': {
      if (!frames.length) return mutate(input, { op: 'truncate', at: m.a });
      const f = frames[m.a % frames.length]!;
      return cat(input.subarray(0, f[0]), input.subarray(f[1]));
    }
  }
}

export function mutateAll(input: Uint8Array, ms: readonly Mutation[], layout?: FrameLayout): Uint8Array {
  // Frame positions refer to the original; after the first edit the layout no longer holds.
  return ms.reduce((acc, m, i) => mutate(acc, m, i === 0 ? layout : undefined), input);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
