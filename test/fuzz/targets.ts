// Every parser of untrusted bytes, as a fuzz target: how to make inputs (random ones and mutations of valid
// ones), how to run one, and which errors are the documented, typed outcomes. Anything else a target
// throws (a TypeError, a RangeError, a wrong result, partial plaintext) is a bug. The seed run in
// test/unit/fuzz and the soak run (test/bench/fuzz.ts) both walk FUZZ_TARGETS; a new parser is one entry.
import assert from 'node:assert/strict';
import { constants as cryptoConstants, createHash, createPublicKey as createPublicKeyFrom, diffieHellman, generateKeyPairSync, privateDecrypt, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { AppendWriter, decryptBuffer, decryptFile, encryptBuffer, isNoteSealError, parseHeader, readRange, recoverFile, verifyFile, type NoteSealErrorCode } from '../../server/src/crypto/format';
import { NoteSealError } from '../../server/src/crypto/errors';
import { AgentServer, type AgentBackend } from '../../server/src/agent/server';
import { encodeFrame, FrameError, FrameReader } from '../../server/src/agent/wire';
import { EnvFileError, parseEnvText, type EnvFormat } from '../../server/src/cli/env-files';
import { bech32, bech32m } from '@scure/base';
import { encodeAgeHybridRecipient, encodeAgeRecipient, encodeIdentity, parseAgeIdentityFile, parsePublicIdentity } from '../../server/src/keys/identity-strings';
import { RECIPIENT_KINDS } from '../../server/src/keys/recipients';
import { buildKeyfile, masterKeyIdOf, parseKeyfile, serializeKeyfile, unwrapWithKek, unwrapWithMasterKey, type MasterKeys } from '../../server/src/keys/keyfile';
import { openSlot, wrapPkcs11Slot, wrapTpmSlot } from '../../server/src/keys/slots';
import { createDetachedKey, loadDetachedKey } from '../../server/src/keys/keystore';
import { Keyring } from '../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { decodeRecoveryKey, encodeRecoveryKey } from '../../server/src/keys/recovery-key';
import { parseStanza } from '../../server/src/keys/stanzas';
import { generateIdentity } from '../../server/src/keys/identity';
import { entryId, GENESIS_PREV, parseRecipientsText, serializeRecipients, signEntry, verifyChain, type ChainEntry } from '../../server/src/keys/recipients-file';
import { parseWavHeader, wavHeader } from '../../server/src/recording/wav';
import { encFrameLayout, mutateAll, mutationArb, sameBytes } from './mutations';
import { x25519Recipient } from '../../server/src/formats/age';
import { decryptSopsText, encryptSopsText, newSopsState, type SopsStoreKind } from '../../server/src/formats/sops';

/** Shared state of one fuzz run: keys, valid samples, a scratch folder (on tmpfs when there is one). */
export interface FuzzContext {
  dir: string;
  dataKey: Buffer;
  keyring: Keyring;
  keyfile: string;
  /** Valid .enc files (chunk size 1 KiB) and their plaintexts. */
  encSamples: { file: Buffer; plaintext: Buffer; headerLength: number; chunkSize: number }[];
  /** Valid append-mode files (recordings), closed and unfinished. */
  appendSamples: { file: Buffer; plaintext: Buffer; recorded: Buffer; headerLength: number; chunkSize: number; closed: boolean }[];
  keyfileText: string;
  /** A keyfile with three unlock slots (version 2): two pkcs11 slots wrapping to `slotPrivateKey`'s public half (a
   * software "token"), one tpm slot to `tpmPrivateKey`'s (a software "TPM"). */
  slotKeyfileText: string;
  slotPrivateKey: KeyObject;
  tpmPrivateKey: KeyObject;
  kek: Uint8Array;
  masterKeys: MasterKeys;
  entry: { keyId: string; text: string; dataKey: Uint8Array };
  recoveryKey: string;
  validStanzas: { type: number; body: Uint8Array }[];
  cleanup(): Promise<void>;
}

export interface FuzzTarget<T> {
  name: string;
  /** What the target parses, for the report. */
  parses: string;
  inputs(ctx: FuzzContext): fc.Arbitrary<T>;
  /** Runs one input. Returns normally (after checking what it returned) or throws; `allowed` judges the throw. */
  run(input: T, ctx: FuzzContext): Promise<void> | void;
  /** The documented, typed errors. */
  allowed(e: unknown): boolean;
}

const codes = (...allowed: NoteSealErrorCode[]) => (e: unknown) => isNoteSealError(e) && allowed.includes(e.code);
const FORMAT_ERRORS: NoteSealErrorCode[] = ['NOT_NOTESEAL', 'UNSUPPORTED_VERSION', 'LIMIT_EXCEEDED', 'TRUNCATED', 'UNFINISHED', 'WRONG_KEY', 'CORRUPTED', 'TRAILING_DATA'];
const CHUNK = 1024;

function scratchRoot(): string {
  try { fs.accessSync('/dev/shm', fs.constants.W_OK); return '/dev/shm'; } catch { return os.tmpdir(); }
}

function plaintextOf(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

export async function makeFuzzContext(): Promise<FuzzContext> {
  const dir = fs.mkdtempSync(path.join(scratchRoot(), 'noteseal-fuzz-'));
  const keyfile = path.join(dir, 'keyfile.json');
  const { keyring, recoveryKey } = await Keyring.init(keyfile, 'fuzz passphrase', { kdf: TEST_KDF_POLICY });
  const dataKey = randomBytes(32);
  const stanzas = [{ type: 1, body: Buffer.from('opaque stanza body') }];
  const encSamples = [0, 1, 700, CHUNK, CHUNK + 1, 3 * CHUNK + 200].map((n, i) => {
    const plaintext = plaintextOf(n, i);
    const file = encryptBuffer(plaintext, dataKey, stanzas, { chunkSize: CHUNK });
    return { file, plaintext, headerLength: parseHeader(file).headerLength, chunkSize: CHUNK };
  });
  const appendSamples: FuzzContext['appendSamples'] = [];
  for (const [i, n] of [0, 500, 2 * CHUNK + 300].entries()) {
    for (const closed of [true, false]) {
      const p = path.join(dir, `rec-${i}-${closed}.wav.enc`);
      const w = await AppendWriter.create(p, dataKey, stanzas, { chunkSize: CHUNK });
      const plaintext = plaintextOf(n, 10 + i);
      await w.append(plaintext);
      if (closed) await w.close(); else await w.abandon();
      const file = fs.readFileSync(p);
      fs.rmSync(p);
      const kept = closed ? plaintext : plaintext.subarray(0, Math.floor(n / CHUNK) * CHUNK);
      appendSamples.push({ file, plaintext: kept, recorded: plaintext, headerLength: parseHeader(file).headerLength, chunkSize: CHUNK, closed });
    }
  }
  // A keyfile of our own making (the KEK is random, so no Argon2id per input) and a key store entry under it.
  const masterKey = new Uint8Array(randomBytes(32));
  const masterKeys: MasterKeys = { current: { id: masterKeyIdOf(masterKey), key: masterKey }, retired: [{ id: masterKeyIdOf(new Uint8Array(32).fill(7)), key: new Uint8Array(32).fill(7) }] };
  const kek = new Uint8Array(randomBytes(32));
  const keyfileText = serializeKeyfile(buildKeyfile(masterKeys, kek, { m: 64, t: 1, p: 1, salt: new Uint8Array(randomBytes(16)) }));
  const token = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = new Uint8Array(token.publicKey.export({ format: 'der', type: 'spki' }));
  const tpm = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const slots = [
    ...['card', 'hsm'].map(name => wrapPkcs11Slot({ name, created: '2026-12-06T12:00:00.000Z', token: 'fuzz token', keyId: '0a0b', publicKey }, masterKeys.current)),
    wrapTpmSlot({ name: 'tpm', created: '2026-12-06T12:00:00Z', pin: true, tpmPublic: new Uint8Array([1]), tpmPrivate: new Uint8Array([2]),
      publicKey: new Uint8Array(tpm.publicKey.export({ format: 'der', type: 'spki' })) }, masterKeys.current),
  ];
  const slotKeyfileText = serializeKeyfile(buildKeyfile(masterKeys, kek, { m: 64, t: 1, p: 1, salt: new Uint8Array(randomBytes(16)) }, slots));
  const storeDir = path.join(dir, 'store');
  const created = await createDetachedKey(storeDir, masterKeys.current);
  const entry = { keyId: created.keyId, text: fs.readFileSync(path.join(storeDir, `${created.keyId}.key`), 'utf8'), dataKey: created.dataKey };
  const fresh = await keyring.newFileStanzas();
  const detached = await keyring.newFileStanzas({ detached: true });
  return {
    dir, dataKey, keyring, keyfile, encSamples, appendSamples, keyfileText, slotKeyfileText, slotPrivateKey: token.privateKey, tpmPrivateKey: tpm.privateKey, kek, masterKeys, entry, recoveryKey,
    validStanzas: [...fresh.stanzas, ...detached.stanzas],
    async cleanup() { keyring.lock(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

// ---- helpers for the targets -------------------------------------------------------------------------

/** Random bytes, or a valid sample with 1-4 mutations (frame-aware for .enc samples). */
function bytesOrMutated(samples: { file: Uint8Array; headerLength?: number; chunkSize?: number }[], maxRandom = 4096): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    { weight: 4, arbitrary: fc.tuple(fc.nat({ max: samples.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([i, ms]) => {
      const s = samples[i]!;
      const layout = s.headerLength !== undefined ? encFrameLayout(s.headerLength, s.chunkSize!, s.file.length) : undefined;
      return mutateAll(s.file, ms, layout);
    }) },
  );
}

/** What an attacker editing a text file by hand does: drop, repeat, swap or move 1-3 lines. */
function lineEdits(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n');
  return fc.array(fc.tuple(fc.constantFrom('drop', 'repeat', 'swap'), fc.nat({ max: lines.length - 1 }), fc.nat({ max: lines.length - 1 })), { minLength: 1, maxLength: 3 })
    .map(ops => {
      const l = [...lines];
      for (const [op, a, b] of ops) {
        if (op === 'drop') l.splice(a % l.length, 1);
        else if (op === 'repeat') l.splice(b % (l.length + 1), 0, l[a % l.length]!);
        else [l[a % l.length], l[b % l.length]] = [l[b % l.length]!, l[a % l.length]!];
      }
      return l.join('\n');
    });
}

/** A valid header under ctx.dataKey followed by frames built from parts: kinds, lengths and bytes of the fuzzer's choosing. */
function craftedPayload(ctx: FuzzContext): fc.Arbitrary<Uint8Array> {
  const header = ctx.encSamples[0]!.file.subarray(0, ctx.encSamples[0]!.headerLength);
  const frame = fc.oneof(
    fc.uint8Array({ minLength: CHUNK + 16, maxLength: CHUNK + 16 }).map(b => Buffer.concat([Buffer.of(0), b])),
    fc.tuple(fc.oneof(fc.nat({ max: CHUNK + 8 }), fc.constant(0xffffffff)), fc.uint8Array({ maxLength: 200 })).map(([len, b]) => {
      const h = Buffer.alloc(5); h[0] = 1; h.writeUInt32BE(len, 1); return Buffer.concat([h, b]);
    }),
    fc.uint8Array({ maxLength: 64 }),
  );
  return fc.array(frame, { maxLength: 5 }).map(fs_ => Buffer.concat([header, ...fs_]));
}

function matchingSample(ctx: FuzzContext, bytes: Uint8Array) {
  return [...ctx.encSamples, ...ctx.appendSamples].find(s => sameBytes(s.file, bytes));
}

let fileCounter = 0;
function scratchFile(ctx: FuzzContext, bytes: Uint8Array, name = 'in.enc'): string {
  const p = path.join(ctx.dir, `${fileCounter++}-${name}`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** The scratch folder holds nothing but `expected` (no output, no temp sibling left behind). */
function onlyFilesLeft(ctx: FuzzContext, expected: string[]): void {
  const left = fs.readdirSync(ctx.dir).filter(n => /^\d+-/.test(n) || n.includes('.tmp-'));
  assert.deepEqual(left.sort(), expected.map(p => path.basename(p)).sort(), 'something was left behind');
}

function cleanupFiles(...files: string[]): void { for (const f of files) fs.rmSync(f, { force: true }); }

const fixedKey = (ctx: FuzzContext) => () => ctx.dataKey;

// ---- the targets ----------------------------------------------------------------------------------------

const header: FuzzTarget<Uint8Array> = {
  name: 'header',
  parses: '.enc header and stanza list (parseHeader)',
  inputs: ctx => bytesOrMutated([...ctx.encSamples, ...ctx.appendSamples].map(s => ({ file: s.file.subarray(0, s.headerLength + 40) })), 300),
  run(bytes) {
    const h = parseHeader(bytes);
    assert.ok(h.headerLength <= bytes.length && h.stanzas.length <= 16);
  },
  allowed: codes('NOT_NOTESEAL', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'LIMIT_EXCEEDED'),
};

const payload: FuzzTarget<Uint8Array> = {
  name: 'payload',
  parses: 'frames and chunks of a whole file in memory (decryptBuffer)',
  inputs: ctx => fc.oneof(bytesOrMutated(ctx.encSamples), craftedPayload(ctx)),
  async run(bytes, ctx) {
    const out = await decryptBuffer(bytes, fixedKey(ctx));
    // Only an unchanged file may open, and then to exactly its plaintext.
    const sample = matchingSample(ctx, bytes);
    assert.ok(sample, 'a changed file opened');
    assert.ok(out.equals(sample.plaintext));
  },
  allowed: codes(...FORMAT_ERRORS),
};

const decryptToPath: FuzzTarget<Uint8Array> = {
  name: 'decrypt-file',
  parses: 'files on disk: decryptFile to a path, verifyFile, readRange',
  inputs: ctx => bytesOrMutated(ctx.encSamples),
  async run(bytes, ctx) {
    const src = scratchFile(ctx, bytes);
    const dst = path.join(ctx.dir, `${fileCounter++}-out.txt`);
    try {
      let opened = false;
      try {
        await decryptFile(src, fixedKey(ctx), dst);
        opened = true;
      } catch (e) {
        onlyFilesLeft(ctx, [src]); // no partial plaintext at the destination, no temp sibling
        // verifyFile and readRange must refuse it too (readRange checks only what it reads, and the end).
        await assert.rejects(verifyFile(src, fixedKey(ctx)), (v: unknown) => isNoteSealError(v));
        await readRange(src, fixedKey(ctx), 0, 10).catch((r: unknown) => { if (!isNoteSealError(r)) throw r; });
        throw e;
      }
      const sample = matchingSample(ctx, bytes);
      assert.ok(opened && sample, 'a changed file decrypted');
      assert.ok(fs.readFileSync(dst).equals(sample.plaintext));
      assert.ok((await readRange(src, fixedKey(ctx), 5, 1500)).equals(sample.plaintext.subarray(5, 1500)));
    } finally {
      cleanupFiles(src, dst);
    }
  },
  allowed: codes(...FORMAT_ERRORS),
};

const recover: FuzzTarget<Uint8Array> = {
  name: 'recover',
  parses: 'append-mode files (recordings): recoverFile',
  inputs: ctx => bytesOrMutated(ctx.appendSamples),
  async run(bytes, ctx) {
    const src = scratchFile(ctx, bytes, 'rec.wav.enc');
    try {
      try {
        await recoverFile(src, fixedKey(ctx));
      } catch (e) {
        assert.ok(sameBytes(fs.readFileSync(src), bytes), 'a refused recovery changed the file');
        onlyFilesLeft(ctx, [src]);
        throw e;
      }
      // What a recovery keeps is authentic: a prefix of what was recorded, never invented bytes.
      const out = await decryptBuffer(fs.readFileSync(src), fixedKey(ctx));
      assert.ok(ctx.appendSamples.some(s => s.recorded.length >= out.length && s.recorded.subarray(0, out.length).equals(out)),
        'recovered bytes are not a recorded prefix');
      onlyFilesLeft(ctx, [src]);
    } finally {
      cleanupFiles(src);
    }
  },
  allowed: codes(...FORMAT_ERRORS),
};

function checksummed(json: Record<string, unknown>): string {
  const rest = { ...json };
  delete rest.checksum;
  return JSON.stringify({ ...rest, checksum: createHash('sha256').update(JSON.stringify(rest)).digest('hex') });
}

/** A JSON document with one field (at any depth) replaced by any JSON value, re-checksummed so parsing goes deep. */
function mutatedJson(text: string, keepChecksum: boolean): fc.Arbitrary<string> {
  const doc = JSON.parse(text) as Record<string, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...p, Array.isArray(v) ? Number(k) : k]);
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths.filter(p => p.length > 0)), fc.jsonValue({ maxDepth: 2 }), fc.boolean()).map(([p, value, drop]) => {
    const copy = structuredClone(doc);
    let at: Record<string | number, unknown> = copy;
    for (const k of p.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    const last = p[p.length - 1]!;
    if (drop && !Array.isArray(at)) delete at[last]; else at[last] = value;
    return keepChecksum ? checksummed(copy) : JSON.stringify(copy);
  });
}

function textInputs(valid: string, keepChecksum: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 3 }).map(v => JSON.stringify(v)),
    mutatedJson(valid, keepChecksum),
    mutatedJson(valid, keepChecksum),
    bytesOrMutated([{ file: Buffer.from(valid) }]).map(b => Buffer.from(b).toString('utf8')),
  );
}

const keyfile: FuzzTarget<string> = {
  name: 'keyfile',
  parses: 'keyfile JSON (parseKeyfile, then unwrapWithKek)',
  inputs: ctx => textInputs(ctx.keyfileText, true),
  run(text, ctx) {
    const kf = parseKeyfile(text, TEST_KDF_POLICY.floor);
    const keys = unwrapWithKek(kf, ctx.kek);
    // Opening at all means the master key and every retired key are exactly the originals.
    assert.ok(sameBytes(keys.current.key, ctx.masterKeys.current.key));
    assert.equal(keys.retired.length, ctx.masterKeys.retired.length);
  },
  allowed: codes('DAMAGED_KEYFILE', 'WRONG_PASSPHRASE'),
};

const keyfileSlots: FuzzTarget<string> = {
  name: 'keyfile-slots',
  parses: 'a keyfile\'s unlock slot list (parseKeyfile, then each slot opened with its token key, then the MAC)',
  inputs: ctx => textInputs(ctx.slotKeyfileText, true),
  run(text, ctx) {
    const kf = parseKeyfile(text, TEST_KDF_POLICY.floor);
    for (const slot of kf.slots) {
      let secret: Uint8Array;
      if (slot.kind === 'pkcs11') {
        const peer = { key: Buffer.from(slot.ephemeralKey), format: 'der' as const, type: 'spki' as const };
        secret = new Uint8Array(diffieHellman({ privateKey: ctx.slotPrivateKey, publicKey: createPublicKeyFrom(peer) }));
      } else {
        try {
          secret = new Uint8Array(privateDecrypt({ key: ctx.tpmPrivateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, slot.sealedKey));
        } catch { throw new NoteSealError('WRONG_KEY', 'the "TPM" refuses the sealed key'); } // what tpm2_rsadecrypt does
      }
      const keys = unwrapWithMasterKey(kf, openSlot(slot, secret, kf.masterKeyId), 'DAMAGED_KEYFILE');
      // Opening at all means the master key is the original and the slot list is the one written (the MAC).
      assert.ok(sameBytes(keys.current.key, ctx.masterKeys.current.key));
      assert.deepEqual(kf.slots.map(s => s.name), ['card', 'hsm', 'tpm']);
    }
    const keys = unwrapWithKek(kf, ctx.kek);
    assert.ok(sameBytes(keys.current.key, ctx.masterKeys.current.key));
    assert.deepEqual(kf.slots.map(s => s.name), ['card', 'hsm', 'tpm']);
  },
  allowed: codes('DAMAGED_KEYFILE', 'WRONG_PASSPHRASE', 'WRONG_KEY'),
};

const keystoreEntry: FuzzTarget<string> = {
  name: 'keystore-entry',
  parses: 'key store entries (loadDetachedKey)',
  inputs: ctx => textInputs(ctx.entry.text, false),
  async run(text, ctx) {
    const dir = path.join(ctx.dir, 'store');
    fs.writeFileSync(path.join(dir, `${ctx.entry.keyId}.key`), text);
    const key = await loadDetachedKey(dir, ctx.entry.keyId, ctx.masterKeys);
    assert.ok(sameBytes(key, ctx.entry.dataKey), 'an altered entry gave another key');
  },
  allowed: codes('DAMAGED_KEYFILE', 'WRONG_KEY', 'KEY_NOT_FOUND'),
};

const stanzas: FuzzTarget<{ type: number; body: Uint8Array }[]> = {
  name: 'stanzas',
  parses: 'key stanzas of a header (parseStanza, Keyring.unwrap)',
  inputs: ctx => {
    const stanza = fc.oneof(
      fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 80 }) }),
      fc.record({ type: fc.constantFrom(1, 2, 3), body: fc.uint8Array({ minLength: 16, maxLength: 68 }) }),
      fc.tuple(fc.constantFrom(...ctx.validStanzas), fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
        .map(([s, ms]) => ({ type: s.type, body: mutateAll(s.body, ms) })),
    );
    return fc.array(stanza, { maxLength: 16 });
  },
  async run(list, ctx) {
    for (const s of list) parseStanza(s);
    await ctx.keyring.unwrap(list);
    // A mutation may leave a stanza as it was (a byte set to its own value); only such a list may open.
    assert.ok(list.some(s => ctx.validStanzas.some(v => v.type === s.type && sameBytes(v.body, s.body))), 'altered or random stanzas opened a data key');
  },
  allowed: codes('WRONG_KEY', 'KEY_NOT_FOUND', 'DAMAGED_KEYFILE'),
};

const recoveryKey: FuzzTarget<string> = {
  name: 'recovery-key',
  parses: 'recovery key text (decodeRecoveryKey)',
  inputs: ctx => fc.oneof(
    fc.string({ maxLength: 90 }),
    fc.stringMatching(/^[0-9A-Za-z -]{50,80}$/),
    bytesOrMutated([{ file: Buffer.from(ctx.recoveryKey) }]).map(b => Buffer.from(b).toString('latin1')),
  ),
  run(text, ctx) {
    const key = decodeRecoveryKey(text);
    assert.equal(key.length, 32);
    // A key that decodes re-encodes to the same characters (up to the forgiven O/0, I/L/1, case and dashes).
    const canon = (s: string) => s.toUpperCase().replace(/[\s-]+/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
    assert.equal(canon(encodeRecoveryKey(key)), canon(text));
    void ctx;
  },
  allowed: codes('INVALID_ARGUMENT'),
};

/** Valid identity strings of every kind: NoteSeal's, age's X25519 and age's post-quantum (public and secret). */
function identitySamples() {
  const x = RECIPIENT_KINDS.x25519.generate();
  const pq = RECIPIENT_KINDS.xwing.generate();
  const secret = (hrp: string, key: Uint8Array) => bech32.encode(hrp, bech32.toWords(key), false).toUpperCase();
  return {
    pqPublicKey: pq.publicKey,
    publicTexts: [encodeIdentity('xwing', new Uint8Array(32).fill(5), pq.publicKey), encodeIdentity('x25519', new Uint8Array(32).fill(6), x.publicKey),
      encodeAgeRecipient(x.publicKey), encodeAgeHybridRecipient(pq.publicKey)],
    identityFiles: [`# created: 2026-12-01\n${secret('AGE-SECRET-KEY-', x.secretKey)}\n`, `${secret('AGE-SECRET-KEY-PQ-', pq.secretKey)}\r\n\n# x\n${secret('AGE-SECRET-KEY-', x.secretKey)}`],
  };
}

const identityStrings: FuzzTarget<{ text: string; file: boolean }> = {
  name: 'identity-strings',
  parses: 'public identities and age identity files (parsePublicIdentity, parseAgeIdentityFile: noteseal1, age1, age1pq1, AGE-SECRET-KEY-1, AGE-SECRET-KEY-PQ-1)',
  inputs: () => {
    const { pqPublicKey, publicTexts, identityFiles } = identitySamples();
    const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    const mutated = (texts: string[]) => bytesOrMutated(texts.map(t => ({ file: Buffer.from(t, 'latin1') })), 100).map(latin1);
    // Well-formed bech32 of the fuzzer's bytes (often of a valid length), so the checks after the checksum are reached.
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 1300 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 1216, maxLength: 1216 }));
    const encoded = (hrps: string[]) => fc.tuple(fc.constantFrom(...hrps), bytes, fc.boolean()).map(([h, b, m]) => {
      const coder = m ? bech32m : bech32;
      const text = coder.encode(h, coder.toWords(b), false);
      return h === h.toUpperCase() ? text.toUpperCase() : text;
    });
    // A valid X-Wing key with a few bytes changed: right at the ML-KEM-768 modulus check.
    const nearPq = fc.array(mutationArb, { minLength: 1, maxLength: 2 }).map(ms => mutateAll(pqPublicKey, ms))
      .filter(k => k.length === pqPublicKey.length).map(k => encodeAgeHybridRecipient(k));
    const publicText = fc.oneof(fc.constantFrom(...publicTexts), mutated(publicTexts), encoded(['noteseal', 'age', 'age1pq', 'age1tag']), nearPq, fc.string({ maxLength: 200 }));
    const fileText = fc.oneof(fc.constantFrom(...identityFiles), mutated(identityFiles), fc.string({ maxLength: 200 }),
      fc.array(fc.oneof(encoded(['AGE-SECRET-KEY-', 'AGE-SECRET-KEY-PQ-', 'AGE-SECRET-KEY-PQX-', 'AGE-PLUGIN-X-']), fc.constantFrom('', '# c', ' ')), { minLength: 1, maxLength: 3 }).map(ls => ls.join('\n')));
    return fc.oneof(publicText.map(text => ({ text, file: false })), fileText.map(text => ({ text, file: true })));
  },
  run({ text, file }) {
    if (file) {
      for (const k of parseAgeIdentityFile(text)) {
        assert.equal(k.secretKey.length, 32);
        assert.equal(k.publicKey.length, RECIPIENT_KINDS[k.kind].publicKeyLength);
      }
      return;
    }
    const id = parsePublicIdentity(text);
    assert.equal(id.text, text.trim());
    assert.equal(id.publicKey.length, RECIPIENT_KINDS[id.kind].publicKeyLength);
    // Only noteseal1 carries a signing key; an age recipient reads, never signs.
    assert.equal(id.signingKey !== undefined, id.text.startsWith('noteseal1'));
    // What parses is something one can wrap a data key to.
    RECIPIENT_KINDS[id.kind].wrap(id.publicKey, new Uint8Array(32));
  },
  allowed: codes('INVALID_ARGUMENT'),
};

const WAV_ERRORS = /^(not a WAV file|only PCM WAV files|WAV data chunk before|truncated WAV header|unsupported WAV format)/;
const wav: FuzzTarget<Uint8Array> = {
  name: 'wav-header',
  parses: 'WAV headers inside recordings (parseWavHeader)',
  inputs: () => bytesOrMutated([{ file: wavHeader() }, { file: wavHeader(undefined, 1000) }, { file: Buffer.concat([wavHeader().subarray(0, 36), Buffer.from('LIST\x04\0\0\0abcd'), wavHeader().subarray(36)]) }], 120),
  run(bytes) {
    const h = parseWavHeader(bytes);
    // What the player and the exporter divide by must be sane.
    assert.ok(h.channels >= 1 && h.sampleRate >= 1 && h.bitsPerSample >= 8 && h.bitsPerSample % 8 === 0, `format ${JSON.stringify(h)}`);
    assert.ok(h.dataOffset <= bytes.length);
  },
  allowed: e => e instanceof Error && !(e instanceof NoteSealError) && WAV_ERRORS.test(e.message),
};

const agentWire: FuzzTarget<{ chunks: Uint8Array[] }> = {
  name: 'agent-wire',
  parses: 'agent frames and requests (FrameReader, AgentServer request handling)',
  inputs: ctx => {
    const stanzaJson = fc.oneof(
      fc.constantFrom(...ctx.validStanzas).map(s => ({ type: s.type, body: Buffer.from(s.body).toString('base64') })),
      fc.record({ type: fc.oneof(fc.integer(), fc.jsonValue()), body: fc.oneof(fc.base64String({ maxLength: 100 }), fc.jsonValue()) }),
    );
    const request = fc.record({
      v: fc.oneof(fc.constant(1), fc.jsonValue()),
      op: fc.oneof(fc.constantFrom('status', 'unwrap', 'new-file-keys', 'lock', 'stop', '__proto__', 'constructor'), fc.jsonValue()),
      keyfile: fc.oneof(fc.constant(ctx.keyfile), fc.string(), fc.jsonValue()),
      stanzas: fc.oneof(fc.array(stanzaJson, { maxLength: 18 }), fc.jsonValue()),
      detached: fc.oneof(fc.boolean(), fc.jsonValue()),
      client: fc.jsonValue(),
    }, { requiredKeys: ['v', 'op'] });
    const frames = fc.array(fc.oneof(request.map(r => encodeFrame(r)), fc.jsonValue().map(j => encodeFrame(j)), fc.uint8Array({ maxLength: 64 })), { minLength: 1, maxLength: 3 });
    return fc.tuple(frames, fc.array(fc.nat({ max: 400 }), { maxLength: 4 })).map(([fr, cuts]) => {
      const all = Buffer.concat(fr);
      const points = [...new Set(cuts.map(c => c % (all.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let last = 0;
      for (const p of [...points, all.length]) { chunks.push(all.subarray(last, p)); last = p; }
      return { chunks };
    });
  },
  async run({ chunks }, ctx) {
    const backend: AgentBackend = { kind: 'cli', keyfile: ctx.keyfile, keyring: () => ctx.keyring, lockedMessage: 'locked', lock() {} };
    const server = new AgentServer(backend);
    const handle = (server as unknown as { handle(raw: unknown, socket: unknown): Promise<{ reply: { v: number; ok: boolean }; blob?: Uint8Array }> }).handle.bind(server);
    const reader = new FrameReader();
    let frameError: unknown;
    for (const c of chunks) {
      let frames;
      try { frames = reader.push(Buffer.from(c)); } catch (e) { frameError = e; break; }
      for (const f of frames) {
        const { reply, blob } = await handle(f.json, { setTimeout() {} });
        assert.equal(reply.v, 1);
        assert.equal(typeof reply.ok, 'boolean');
        assert.ok(!blob || reply.ok, 'a refusal carried key bytes');
        assert.ok(!blob || blob.length === 32);
        encodeFrame(reply, blob); // every reply must be sendable
      }
    }
    if (frameError) throw frameError;
  },
  allowed: e => e instanceof FrameError,
};

const SECRET = 'S3cr3tV4lueZ';
const envFile = (format: EnvFormat): FuzzTarget<string> => ({
  name: `env-${format}`,
  parses: `${format} files of noteseal exec (parseEnvText)`,
  inputs: () => {
    const frag = fc.string({ maxLength: 12 }).map(s => s.replace(/[\r\n=:]/g, ''));
    const name = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), fc.string({ maxLength: 8 }).map(s => s.replace(/[\r\n]/g, '')));
    const value = fc.tuple(frag, frag).map(([a, b]) => `${a}${SECRET}${b}`);
    const quoted = fc.tuple(value, fc.constantFrom('"', "'", '')).map(([v, q]) => `${q}${v}${q}`);
    if (format === 'json') {
      const entry = fc.tuple(name, fc.oneof(value, fc.jsonValue()));
      return fc.oneof(
        fc.array(entry, { maxLength: 6 }).map(entries => JSON.stringify(Object.fromEntries(entries))),
        fc.string({ maxLength: 200 }), fc.jsonValue().map(v => JSON.stringify(v)),
      );
    }
    const line = fc.oneof(
      fc.tuple(fc.constantFrom('', 'export ', ' ', '- '), name, fc.constantFrom(format === 'yaml' ? ': ' : '=', format === 'yaml' ? ':' : ' = ', ' '), quoted).map(p => p.join('')),
      fc.constantFrom('# comment', '', '---', '...', '  nested: x', '"', "'"),
      fc.string({ maxLength: 30 }).map(s => s.replace(/[\r\n]/g, '')),
    );
    return fc.oneof(fc.array(line, { maxLength: 8 }).map(ls => ls.join(format === 'dotenv' ? '\n' : '\r\n')), fc.string({ maxLength: 200 }));
  },
  run(text) {
    try {
      parseEnvText(text, format);
    } catch (e) {
      // Messages name lines and keys, never a value (the text is a secret).
      if (e instanceof Error && !text.split(/\r?\n/).some(l => new RegExp(`^\\W*${SECRET}`).test(l.trim()))) {
        assert.ok(!e.message.includes(SECRET), `the message shows a value: ${e.message}`);
      }
      throw e;
    }
  },
  allowed: e => e instanceof EnvFileError,
});

/**
 * A valid recipients list (alice is the genesis and adds bob; bob adds an age key; alice removes bob) and the
 * identities it ever names. Made once: the fuzzer mutates its text.
 */
let recipientsSampleMemo: { text: string; entries: ChainEntry[]; identities: Set<string>; stranger: ReturnType<typeof generateIdentity> } | undefined;
function recipientsSample(): { text: string; entries: ChainEntry[]; identities: Set<string>; stranger: ReturnType<typeof generateIdentity> } {
  if (recipientsSampleMemo) return recipientsSampleMemo;
  const alice = generateIdentity(), bob = generateIdentity();
  const age = encodeAgeRecipient(RECIPIENT_KINDS.x25519.generate().publicKey);
  const entries: ChainEntry[] = [];
  const add = (op: 'add' | 'remove', name: string, identity: string, signer: typeof alice.signing) =>
    entries.push(signEntry({ op, name, identity, prev: entries.length ? entryId(entries.at(-1)!) : GENESIS_PREV }, signer));
  add('add', 'alice', alice.public.text, alice.signing);
  add('add', 'bob', bob.public.text, alice.signing);
  add('add', 'carol', age, bob.signing);
  add('remove', 'bob', bob.public.text, alice.signing);
  recipientsSampleMemo = { text: serializeRecipients(entries), entries, identities: new Set([alice.public.text, bob.public.text, age]), stranger: generateIdentity() };
  return recipientsSampleMemo;
}

const recipientsFile: FuzzTarget<string> = {
  name: 'recipients-file',
  parses: 'a .noteseal/recipients file (parseRecipientsText, verifyChain): the signed member list a cloned repository carries',
  inputs: () => {
    const { text } = recipientsSample();
    const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    // Byte mutations, and what an attacker editing by hand does: drop, repeat, swap or move lines.
    const byLine = lineEdits(text);
    // A stranger slips in: an entry's identity replaced by theirs (its signature kept), or a self-signed
    // addition appended after any entry, with the right link to it.
    const { entries, stranger } = recipientsSample();
    const slipped = fc.tuple(fc.nat({ max: entries.length - 1 }), fc.boolean()).map(([k, replace]) => {
      const e = entries.slice(0, k + 1);
      if (replace) e[k] = { ...e[k]!, identity: stranger.public.text };
      else e.push(signEntry({ op: 'add', name: 'mallory', identity: stranger.public.text, prev: entryId(e[k]!) }, stranger.signing));
      return serializeRecipients([...e, ...entries.slice(k + 1)]);
    });
    return fc.oneof(fc.constant(text), bytesOrMutated([{ file: Buffer.from(text, 'latin1') }], 300).map(latin1), byLine, slipped, fc.string({ maxLength: 300 }));
  },
  run(text) {
    const chain = verifyChain(parseRecipientsText(text));
    // Signatures cannot be forged: whatever verifies names only identities the sample's members signed in,
    // and always at least one member.
    const { identities } = recipientsSample();
    assert.ok(chain.members.length >= 1);
    for (const m of chain.members) assert.ok(identities.has(m.identity.text), `a member nobody signed in: ${m.name}`);
  },
  allowed: codes('UNTRUSTED_RECIPIENTS'),
};

// ---- sops files (issue 27) ------------------------------------------------------------------------------

const SOPS_CANARY = 'CANARY-sops-value-7f3e';
const SOPS_PLAIN: Record<SopsStoreKind, string> = {
  yaml: `# note\nuser: ${SOPS_CANARY}\nport: 5432\nratio: 1.5\non: true\nlist:\n    - ${SOPS_CANARY}\n    - nested: x\n`,
  json: `{"user": "${SOPS_CANARY}", "port": 5432, "on": false, "list": ["${SOPS_CANARY}", {"a": null}]}`,
  dotenv: `# note\nUSER=${SOPS_CANARY}\nPORT=5432\n`,
  ini: `[db]\nuser = ${SOPS_CANARY}\n; comment\nport = 5432\n`,
};
const sopsSamples = new Map<SopsStoreKind, { text: string; mac: string; dataKey: Uint8Array }>();
function sopsSample(kind: SopsStoreKind) {
  let s = sopsSamples.get(kind);
  if (!s) {
    const keygen = x25519Recipient(new Uint8Array(randomBytes(32)));
    const state = newSopsState(kind, [{ text: 'age1fuzz', recipient: keygen }], { unencrypted_suffix: '_unencrypted' });
    const { text, mac } = encryptSopsText(SOPS_PLAIN[kind], state);
    s = { text, mac, dataKey: state.dataKey };
    sopsSamples.set(kind, s);
  }
  return s;
}

/** A sops file of one store: a valid NoteSeal-written file with its bytes or lines mutated, or random text. */
function sopsFile(kind: SopsStoreKind): FuzzTarget<string> {
  return {
    name: `sops-${kind}`,
    parses: `a sops ${kind} file (sopsDocument, decryptSopsText): values, metadata and MAC of a file a repository carries`,
    inputs: () => {
      const { text } = sopsSample(kind);
      return fc.oneof(fc.constant(text), bytesOrMutated([{ file: Buffer.from(text) }], 300).map(b => Buffer.from(b).toString('utf8')), lineEdits(text), fc.string({ maxLength: 300 }));
    },
    run(text) {
      const s = sopsSample(kind);
      const opened = decryptSopsText(kind, text, s.dataKey);
      // A file that opens carries exactly the values the MAC covers: the sample's, in its order.
      assert.equal(opened.mac, s.mac);
    },
    allowed: e => codes('CORRUPTED', 'INVALID_ARGUMENT')(e) && !(e as Error).message.includes(SOPS_CANARY),
  };
}

/** Every parser of untrusted bytes in this tree. Adding one: write a FuzzTarget and list it here. */
export const FUZZ_TARGETS: FuzzTarget<never>[] = [
  header, payload, decryptToPath, recover, keyfile, keystoreEntry, stanzas, recoveryKey, wav, agentWire, identityStrings,
  envFile('dotenv'), envFile('json'), envFile('yaml'), recipientsFile, keyfileSlots,
  sopsFile('yaml'), sopsFile('json'), sopsFile('dotenv'), sopsFile('ini'),
] as FuzzTarget<never>[];
