// The keys of files, from the agent when one answers (no passphrase, no Argon2id), else from the keyfile
// after asking for the passphrase. Commands that only need file keys (encrypt, decrypt, verify, recover,
// exec) use this; passwd, rotate, shred and init always ask for the passphrase.
import fs from 'node:fs';
import path from 'node:path';
import { AgentConnection, AgentRefused } from '../agent/client';
import { AgentPathError, canonicalPath, socketPathFromEnv } from '../agent/paths';
import type { ClientInfo } from '../agent/protocol';
import type { PayloadBoundStanza, Stanza, UnwrapDataKey } from '../crypto/format';
import { remoteWriteSignatureStanza, writeSignatureStanza } from '../keys/write-signature';
import { keyfilePath, withKeyring, type CliContext } from './context';
import { UsageError } from './args';
import { identityGiven, orIdentity, type GivenIdentity } from './identity-keys';
import type { AgeStanza } from '../formats/age';
import { ageFileKeyFor } from '../formats/age-format';
import type { DotenvxOpener } from '../formats/dotenvx';

/** A new file's keys: the data key (the caller wipes it), its stanzas, and its write signature. */
export interface NewFileKeys {
  dataKey: Uint8Array;
  stanzas: Stanza[];
  /** Signs the write as this keyfile's owner; absent when the keyfile has no identity yet. */
  payloadBound?: PayloadBoundStanza;
}

export interface FileKeys {
  /** For the format's decrypt functions: this file's data key. */
  unwrap: UnwrapDataKey;
  /** A fresh data key for a new file, its stanzas and its write signature (made by the agent, or with the keyring). */
  /** `signedPath`: the path the write signature binds (signedPathOf); absent: a version 1 signature. */
  newFileStanzas(options: { detached?: boolean; signedPath?: string }): Promise<NewFileKeys>;
  /** The file key of an age header, from the age identities the agent or the keyring holds (the caller wipes it). */
  ageFileKey(stanzas: AgeStanza[]): Promise<Uint8Array>;
  /**
   * What opens a dotenvx file's values (`sealed`: all of them, asked at once) for its public key: the agent's
   * answers, or the key store's private key; null when no key for it is held (the caller wipes what it got).
   */
  dotenvxOpener?(publicHex: string, sealed: readonly Buffer[]): Promise<DotenvxOpener | null>;
  /** 'agent' when the agent hands out the keys; 'identity' when only an identity (NOTESEAL_IDENTITY…) reads. */
  source: 'agent' | 'passphrase' | 'identity';
}

/** A passphrase given on purpose (a file or descriptor): the only fallback when the agent is locked. */
function passphraseGiven(env: NodeJS.ProcessEnv): boolean {
  return env.NOTESEAL_PASSPHRASE_FILE !== undefined || env.NOTESEAL_PASSPHRASE_FD !== undefined;
}

/** What the agent may show in a consent prompt: our pid and the program that ran us (a claim, not proof). */
function clientInfo(file?: string): ClientInfo {
  let name = 'noteseal';
  try { name = fs.readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim() || name; } catch { /* not Linux */ }
  return { pid: process.pid, name, ...(file ? { file: path.resolve(file) } : {}) };
}

/**
 * One request on a connection of its own: a long command (a big file) may outlast the agent's idle-connection
 * timeout. The first one reuses the connection that asked for the status (`spare`), which saves a connect.
 */
async function withAgent<T>(socketPath: string, spare: { conn: AgentConnection | null }, fn: (agent: AgentConnection) => Promise<T>): Promise<T> {
  const kept = spare.conn;
  spare.conn = null;
  const agent = kept ?? await AgentConnection.open(socketPath);
  if (!agent) throw new AgentRefused('protocol', `the NoteSeal agent at ${socketPath} went away`);
  try { return await fn(agent); } finally { agent.close(); }
}

/** Whether the agent answers, is unlocked and serves our keyfile: 'use', 'locked', or 'none' (with a note why). */
async function agentState(ctx: CliContext, socketPath: string, keyfile: string, spare: { conn: AgentConnection | null }): Promise<'use' | 'locked' | 'locked-vscode' | 'none'> {
  let agent: AgentConnection | null = null;
  try {
    agent = await AgentConnection.open(socketPath);
    if (!agent) return 'none';
    const status = await agent.status();
    if (status.locked) return status.kind === 'vscode' ? 'locked-vscode' : 'locked';
    if (canonicalPath(status.keyfile) === canonicalPath(keyfile)) {
      spare.conn = agent; // kept open for the first key request
      agent = null;
      return 'use';
    }
    ctx.note(`noteseal: the agent serves another keyfile (${status.keyfile}); asking for the passphrase`);
  } catch (e) {
    if (!(e instanceof AgentPathError) && !(e instanceof AgentRefused)) throw e;
    ctx.note(`noteseal: warning: not using the agent: ${e.message}`);
  } finally {
    agent?.close();
  }
  return 'none';
}

/** An identity alone: it reads; writing a new file names the key sources that can. */
function identityOnlyKeys(identity: GivenIdentity): FileKeys {
  return {
    source: 'identity',
    unwrap: identity.unwrap,
    ageFileKey: stanzas => Promise.resolve(identity.ageFileKey(stanzas)),
    newFileStanzas: () => Promise.reject(new UsageError(
      `${identity.where} only reads: writing a file needs your keyfile (unlock NoteSeal or run 'noteseal agent start', or set NOTESEAL_PASSPHRASE_FILE)`)),
  };
}

/** No agent answers and nothing may prompt (git's drivers: git runs them once per file, without a terminal of their own). */
export class NoAgent extends Error {
  override readonly name = 'NoAgent';
}

/** The contexts of commands the agent runs itself (agent-served.ts), with its own keyring's keys. */
const agentOwnKeys = new WeakMap<CliContext, FileKeys>();

/** Where the agent runs a command itself: every file's keys come from its own keyring, as `keys`. */
export function useAgentOwnKeys(ctx: CliContext, keys: FileKeys): void {
  agentOwnKeys.set(ctx, keys);
}

/**
 * Runs `fn` with the keys of files from the agent, or from the keyring unlocked with the passphrase.
 * `prompt: false`: without an agent, only a passphrase given on purpose (a file or descriptor) is used;
 * otherwise NoAgent is thrown instead of asking.
 */
export async function withFileKeys<T>(ctx: CliContext, fn: (keys: FileKeys) => Promise<T>, about?: string, options: { prompt?: boolean } = {}): Promise<T> {
  // The agent running a command itself (agent-served.ts) is the agent: its keyring serves.
  const own = agentOwnKeys.get(ctx);
  if (own) return fn(own);
  // An identity given on purpose (NOTESEAL_IDENTITY, NOTESEAL_IDENTITY_FILE, --identity): after the agent, before a passphrase.
  const identity = await identityGiven(ctx);
  try {
    return await withFileKeysOrIdentity(ctx, fn, identity, about, options);
  } finally {
    identity?.wipe();
  }
}

async function withFileKeysOrIdentity<T>(ctx: CliContext, fn: (keys: FileKeys) => Promise<T>, identity: GivenIdentity | null, about: string | undefined, options: { prompt?: boolean }): Promise<T> {
  const keyfile = keyfilePath(ctx);
  const socketPath = socketPathFromEnv(ctx.env);
  const spare: { conn: AgentConnection | null } = { conn: null };
  const state = await agentState(ctx, socketPath, keyfile, spare);
  if (state === 'use') {
    try {
      return await fn({
        source: 'agent',
        unwrap: orIdentity(stanzas => withAgent(socketPath, spare, agent => agent.unwrap(keyfile, stanzas, clientInfo(about))), identity),
        ageFileKey: stanzas => withAgent(socketPath, spare, agent => agent.ageUnwrap(keyfile, stanzas, clientInfo(about))),
        dotenvxOpener: async (publicHex, sealed) => {
          const opened = await withAgent(socketPath, spare, agent => agent.dotenvxDecrypt(keyfile, publicHex, sealed, clientInfo(about)));
          const byValue = new Map(sealed.map((s, i) => [s.toString('base64'), opened[i] ?? null]));
          return (s: Buffer) => { const p = byValue.get(s.toString('base64')); return p ? Buffer.from(p) : null; };
        },
        newFileStanzas: async options => {
          const { dataKey, stanzas, signTicket } = await withAgent(socketPath, spare, agent => agent.newFileKeys(keyfile, options.detached === true, clientInfo(about)));
          // The agent signs this one write (its ticket came with the keys): the CLI never holds the signing key.
          const payloadBound = signTicket ? remoteWriteSignatureStanza(dataKey, options.signedPath, (prefix, commitment, hash) =>
            withAgent(socketPath, spare, agent => agent.signWrite(keyfile, signTicket, prefix, commitment, hash, options.signedPath))) : undefined;
          return { dataKey, stanzas, ...(payloadBound ? { payloadBound } : {}) };
        },
      });
    } finally {
      spare.conn?.close();
    }
  }
  // No agent to serve us: an identity given on purpose reads (a server, a CI job); a passphrase given too also writes.
  if (identity && !passphraseGiven(ctx.env)) return fn(identityOnlyKeys(identity));
  // Lock means lock: a locked agent is not worked around with a prompt, only with a passphrase given on purpose.
  if (state === 'locked' || state === 'locked-vscode') {
    if (!passphraseGiven(ctx.env)) {
      throw new AgentRefused('locked', state === 'locked-vscode'
        ? `NoteSeal is locked in VS Code (agent ${socketPath}): unlock it there, then try again`
        : `the NoteSeal agent at ${socketPath} is locked: run 'noteseal agent start' to unlock it`);
    }
    ctx.note('noteseal: the agent is locked; using the passphrase from the environment');
  } else if (options.prompt === false && !passphraseGiven(ctx.env)) {
    throw new NoAgent(`no NoteSeal agent answers at ${socketPath}: unlock NoteSeal in VS Code, or run 'noteseal agent start'`);
  }
  return withKeyring(ctx, keyring => fn({
    source: 'passphrase',
    unwrap: orIdentity(keyring.unwrap, identity, 'first'),
    ageFileKey: stanzas => ageFileKeyFor(keyring, stanzas),
    dotenvxOpener: publicHex => keyring.dotenvxSecretKey(publicHex),
    newFileStanzas: async options => {
      const keys = await keyring.newFileStanzas({ ...(options.detached ? { detached: true } : {}) });
      const identity = await keyring.identity();
      return { dataKey: keys.dataKey, stanzas: keys.stanzas, ...(identity ? { payloadBound: writeSignatureStanza(identity.signing, keys.dataKey, options.signedPath) } : {}) };
    },
  }));
}
