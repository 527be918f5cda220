// WAV (RIFF, PCM) headers for recordings.
//
// A recording's plaintext is a WAV file: a 44-byte header, then raw PCM. The header is sealed in chunk 0
// of an append-mode .enc file while the length is still unknown, and chunk 0 cannot be rewritten later
// (re-sealing it would reuse its nonce). So the header uses the streaming convention: the RIFF size and
// the data size are 0xFFFFFFFF ("unknown, read to the end"), which ffmpeg, sox and browsers accept.
//
// The real length follows from the plaintext size, which the .enc container knows exactly (the final
// chunk authenticates it): dataBytes = plaintextBytes - 44 (rounded down to whole sample frames), and
// durationSeconds = dataBytes / byteRate. A player seeks to time t with readRange(44 + t * byteRate).
// exportWav writes a plaintext WAV with these real sizes filled in.

export const WAV_HEADER_LENGTH = 44;
/** RIFF and data sizes of a header written before the length was known. */
export const WAV_STREAMING_SIZE = 0xffffffff;

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** What every recording captures: 16 kHz mono 16-bit signed little-endian (32,000 bytes a second). */
export const RECORDING_FORMAT: Readonly<PcmFormat> = Object.freeze({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });

export function bytesPerFrame(f: PcmFormat): number {
  return f.channels * (f.bitsPerSample / 8);
}

export function byteRate(f: PcmFormat): number {
  return f.sampleRate * bytesPerFrame(f);
}

/**
 * A canonical 44-byte PCM WAV header. Without `dataBytes` (or with null) it is a streaming header whose
 * sizes are 0xFFFFFFFF; with it, the exact sizes (dataBytes must be at most 4 GiB - 45).
 */
export function wavHeader(format: PcmFormat = RECORDING_FORMAT, dataBytes: number | null = null): Buffer {
  const h = Buffer.alloc(WAV_HEADER_LENGTH);
  if (dataBytes !== null && (!Number.isSafeInteger(dataBytes) || dataBytes < 0 || dataBytes + WAV_HEADER_LENGTH - 8 + (dataBytes & 1) >= WAV_STREAMING_SIZE)) {
    throw new RangeError(`a WAV file cannot hold ${dataBytes} bytes of audio`);
  }
  const riffSize = dataBytes === null ? WAV_STREAMING_SIZE : WAV_HEADER_LENGTH - 8 + dataBytes + (dataBytes & 1);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(riffSize, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);                       // fmt chunk size
  h.writeUInt16LE(1, 20);                        // PCM
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(byteRate(format), 28);
  h.writeUInt16LE(bytesPerFrame(format), 32);    // block align
  h.writeUInt16LE(format.bitsPerSample, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes === null ? WAV_STREAMING_SIZE : dataBytes, 40);
  return h;
}

export interface ParsedWavHeader extends PcmFormat {
  /** Where the PCM starts. */
  dataOffset: number;
  /** The data size the header declares; null for a streaming header (read to the end). */
  declaredDataBytes: number | null;
}

/** Parses a PCM WAV header (canonical or with extra chunks before `data`) of 8/16/24/32-bit samples; throws on anything else. */
export function parseWavHeader(bytes: Uint8Array): ParsedWavHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: PcmFormat | null = null;
  for (let p = 12; p + 8 <= b.length;) {
    const id = b.toString('latin1', p, p + 4);
    const size = b.readUInt32LE(p + 4);
    if (id === 'fmt ') {
      if (p + 8 + 16 > b.length) break;
      if (b.readUInt16LE(p + 8) !== 1) throw new Error('only PCM WAV files are supported');
      fmt = { channels: b.readUInt16LE(p + 10), sampleRate: b.readUInt32LE(p + 12), bitsPerSample: b.readUInt16LE(p + 22) };
      // The player and the exporter divide by the frame size and the byte rate: both must be whole and non-zero.
      if (fmt.channels < 1 || fmt.sampleRate < 1 || ![8, 16, 24, 32].includes(fmt.bitsPerSample)) {
        throw new Error(`unsupported WAV format (${fmt.channels} channels, ${fmt.sampleRate} Hz, ${fmt.bitsPerSample} bits)`);
      }
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before its fmt chunk');
      return { ...fmt, dataOffset: p + 8, declaredDataBytes: size === WAV_STREAMING_SIZE ? null : size };
    }
    if (size === WAV_STREAMING_SIZE) break;
    p += 8 + size + (size & 1);
  }
  throw new Error('truncated WAV header (no data chunk)');
}

/**
 * The audio a recording's plaintext holds, from the plaintext size alone: whole sample frames after the
 * header. Used by the player, the exporter and the recovery report.
 */
export function audioFromPlaintextSize(plaintextBytes: number, format: PcmFormat = RECORDING_FORMAT, headerLength = WAV_HEADER_LENGTH): { dataBytes: number; durationSeconds: number } {
  const frame = bytesPerFrame(format);
  const raw = Math.max(0, plaintextBytes - headerLength);
  const dataBytes = raw - (raw % frame);
  return { dataBytes, durationSeconds: dataBytes / byteRate(format) };
}
