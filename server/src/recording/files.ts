// Recordings on disk: finding the ones a crash left unfinished, sealing them, and exporting a plaintext WAV.
import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory, tempSiblingPath } from '../crypto/atomic';
import { CHUNK_FRAME_OVERHEAD, FINAL_FRAME_OVERHEAD, FRAME_FINAL } from '../crypto/constants';
import { decryptStream, NoteSealError, readHeaderFromFile, recoverFile, type UnwrapDataKey } from '../crypto/format';
import { acquireLock, lockOwner, withLock, type HeldLock } from '../keys/lockfile';
import { openRegularFile } from '../crypto/safe-open';
import { audioFromPlaintextSize, parseWavHeader, wavHeader, WAV_HEADER_LENGTH, type PcmFormat } from './wav';

/**
 * A recording in progress is locked: `.<name>.wav.enc.lock` beside it holds the recording worker's pid. Other
 * windows (other workers) and the CLI leave a locked file alone; a crash leaves a stale lock (dead pid).
 */
export function recordingLockPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

/** Takes a recording's lock without waiting; INVALID_ARGUMENT naming the other process when it is held. */
export function lockRecording(file: string): Promise<HeldLock> {
  return acquireLock(recordingLockPath(file), { what: `The recording ${path.basename(file)}` });
}

/** Runs `fn` while holding the recording's lock, so no other window records, recovers or shreds it meanwhile. */
export function withRecordingLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  return withLock(recordingLockPath(file), { what: `The recording ${path.basename(file)}` }, fn);
}

export interface UnfinishedRecording {
  path: string;
  fileBytes: number;
  /** Audio in the complete chunks, which recovery keeps. */
  recoverableSeconds: number;
  modifiedAt: string;
}

/**
 * Whether an append-mode file lacks its final chunk, from its structure alone (no key needed): a closed
 * file ends with a final frame whose length field accounts exactly for the bytes after it.
 */
async function isUnfinished(handle: FileHandle, size: number, headerLength: number, chunkSize: number): Promise<boolean> {
  const payload = size - headerLength;
  if (payload < FINAL_FRAME_OVERHEAD) return true;
  const frameLength = chunkSize + CHUNK_FRAME_OVERHEAD;
  const finalOffset = headerLength + Math.floor((payload - FINAL_FRAME_OVERHEAD) / frameLength) * frameLength;
  const head = Buffer.alloc(5);
  await handle.read(head, 0, 5, finalOffset);
  return !(head[0] === FRAME_FINAL && head.readUInt32BE(1) < chunkSize && FINAL_FRAME_OVERHEAD + head.readUInt32BE(1) === size - finalOffset);
}

/** Recordings in `folder` (not recursive) that a crash left without their final chunk; never one being recorded. */
export async function findUnfinishedRecordings(folder: string): Promise<UnfinishedRecording[]> {
  const out: UnfinishedRecording[] = [];
  for (const name of await readdir(folder)) {
    if (!name.endsWith('.enc') || name.startsWith('.')) continue;
    const file = path.join(folder, name);
    let handle: FileHandle | undefined;
    try {
      const header = await readHeaderFromFile(file);
      if (!header.appendMode || header.logMode) continue; // a log (`noteseal append`) is not a recording
      if (await lockOwner(recordingLockPath(file)) !== null) continue;   // another window is recording it
      handle = await openRegularFile(file);
      const st = await handle.stat();
      if (!st.isFile() || !(await isUnfinished(handle, st.size, header.headerLength, header.chunkSize))) continue;
      const fullChunks = Math.floor((st.size - header.headerLength) / (header.chunkSize + CHUNK_FRAME_OVERHEAD));
      out.push({
        path: file, fileBytes: st.size, modifiedAt: st.mtime.toISOString(),
        recoverableSeconds: audioFromPlaintextSize(fullChunks * header.chunkSize).durationSeconds,
      });
    } catch {
      // not a NoteSeal file, or unreadable: not ours to recover
    } finally {
      await handle?.close();
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export interface RecoveredRecording {
  path: string;
  durationSeconds: number;
  plaintextBytes: number;
  /** Ciphertext bytes dropped (the torn or partial last frame). */
  droppedBytes: number;
}

/**
 * Seals an unfinished recording, keeping every complete authenticated chunk (see recoverFile). Holds the
 * recording's lock, so it refuses a file another window is still recording (and two windows never recover
 * the same file at once).
 */
export async function recoverRecording(file: string, unwrap: UnwrapDataKey): Promise<RecoveredRecording> {
  const r = await withRecordingLock(file, () => recoverFile(file, unwrap));
  return { path: file, plaintextBytes: r.plaintextBytes, droppedBytes: r.droppedBytes, durationSeconds: audioFromPlaintextSize(r.plaintextBytes).durationSeconds };
}

export interface ExportResult {
  dataBytes: number;
  durationSeconds: number;
  format: PcmFormat;
}

/**
 * An export is plaintext: it must never replace the recording itself (which would destroy it) nor any
 * other `.enc` file (a plaintext file under an encrypted name).
 */
async function refuseEncryptedTarget(encPath: string, outPath: string): Promise<void> {
  if (/\.enc$/i.test(outPath)) {
    throw new NoteSealError('INVALID_ARGUMENT', `Export writes a plaintext WAV: choose a name that does not end in .enc (not ${path.basename(outPath)}).`);
  }
  const [source, target] = await Promise.all([stat(encPath), stat(outPath).catch(() => null)]);
  if (target && target.dev === source.dev && target.ino === source.ino) {
    throw new NoteSealError('INVALID_ARGUMENT', 'Export cannot write over the recording itself: choose another file.');
  }
}

/**
 * Decrypts a recording to a plaintext WAV at `outPath` with the real sizes in its header. Crash-safe:
 * written to a temporary sibling, fsynced, renamed into place only after every chunk authenticated.
 */
export async function exportWav(encPath: string, unwrap: UnwrapDataKey, outPath: string): Promise<ExportResult> {
  await refuseEncryptedTarget(encPath, outPath);
  const tmp = tempSiblingPath(outPath);
  const mode = await stat(outPath).then(s => s.mode & 0o777, () => 0o600);
  const handle = await open(tmp, 'wx', mode);
  let ok = false;
  try {
    let head: Buffer = Buffer.alloc(0);
    let fmt: (PcmFormat & { dataOffset: number }) | null = null;
    let written = 0;
    let position = WAV_HEADER_LENGTH;
    const put = async (b: Buffer) => {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await handle.write(b, done, b.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
      written += b.length;
    };
    for await (const chunk of decryptStream(encPath, unwrap)) {
      if (!fmt) {
        head = Buffer.concat([head, chunk]);
        chunk.fill(0);
        if (head.length < WAV_HEADER_LENGTH) continue;
        fmt = parseWavHeader(head);
        if (head.length > fmt.dataOffset) await put(head.subarray(fmt.dataOffset));
        head.fill(0);
        continue;
      }
      await put(chunk);
      chunk.fill(0);
    }
    if (!fmt) {
      if (head.length > 0) throw new Error('the recording is too short to hold a WAV header');
      fmt = { ...parseWavHeader(wavHeader()), dataOffset: WAV_HEADER_LENGTH };   // an empty recording: an empty WAV
    }
    const format: PcmFormat = { sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bitsPerSample };
    const frame = format.channels * format.bitsPerSample / 8;
    const dataBytes = written - (written % frame);
    if (dataBytes !== written) await handle.truncate(WAV_HEADER_LENGTH + dataBytes);
    await handle.write(wavHeader(format, dataBytes), 0, WAV_HEADER_LENGTH, 0);
    await handle.sync();
    await handle.close();
    await rename(tmp, outPath);
    await fsyncDirectory(path.dirname(outPath));
    ok = true;
    return { dataBytes, durationSeconds: dataBytes / (format.sampleRate * frame), format };
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
  }
}
