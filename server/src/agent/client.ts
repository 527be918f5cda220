// The agent's client side: connects (after checking the socket is ours), sends one request at a time and
// turns refusals into typed errors. Used by the CLI; pure Node.
import type { AgeStanza } from '../formats/age';
import net from 'node:net';
import { NoteSealError, type NoteSealErrorCode } from '../crypto/errors';
import type { Stanza } from '../crypto/format';
import { fromBase64, toBase64 } from '../keys/bytes';
import { checkSocketToConnect } from './paths';
import { AGENT_PROTOCOL_VERSION, type AgentErrorKind, type AgentReply, type AgentRequest, type AgentStatus, type ClientInfo } from './protocol';
import { encodeFrame, FrameReader, type Frame } from './wire';

const CONNECT_TIMEOUT_MS = 2_000;
/** Long enough for a consent prompt in VS Code; a request that takes longer is abandoned. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The agent refused (locked, another keyfile, denied...) or broke the protocol. */
export class AgentRefused extends Error {
  override readonly name = 'AgentRefused';
  constructor(readonly kind: AgentErrorKind | 'protocol', message: string) { super(message); }
}

type Request = AgentRequest extends infer R ? R extends { v: 1 } ? Omit<R, 'v'> : never : never;

/** The base64 characters of sealed dotenvx values sent in one request (a frame's JSON and blob hold 128 KiB). */
const DOTENVX_BATCH_CHARS = 96 * 1024;

/** Consecutive groups of `values` whose lengths add up to at most `limit` (a longer value goes alone). */
function batchesOf(values: readonly string[], limit: number): string[][] {
  const out: string[][] = [];
  let size = Infinity;
  for (const v of values) {
    if (size + v.length > limit) { out.push([]); size = 0; }
    out[out.length - 1]!.push(v);
    size += v.length;
  }
  return out;
}

export class AgentConnection {
  private readonly reader = new FrameReader();
  private waiting: ((frame: Frame | Error) => void) | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket, readonly socketPath: string) {
    socket.on('data', chunk => {
      let frames: Frame[];
      try { frames = this.reader.push(chunk); } catch (e) { this.fail(e as Error); return; }
      for (const f of frames) { const w = this.waiting; this.waiting = null; w?.(f); }
    });
    socket.on('error', e => this.fail(e));
    socket.on('close', () => this.fail(new AgentRefused('protocol', 'the agent closed the connection')));
  }

  /**
   * Connects to the agent at `socketPath`; null when none listens there (no socket, or a stale one).
   * Throws AgentPathError when the socket or its folder is not private to us.
   */
  static async open(socketPath: string): Promise<AgentConnection | null> {
    try { checkSocketToConnect(socketPath); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const timer = setTimeout(() => { socket.destroy(); resolve(null); }, CONNECT_TIMEOUT_MS);
      socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(new AgentConnection(socket, socketPath)); });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(null); else reject(e);
      });
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.(e);
  }

  /** One request, its reply. A refusal throws AgentRefused (or NoteSealError when a file's key failed). */
  async request(req: Request): Promise<{ reply: Extract<AgentReply, { ok: true }>; blob: Buffer }> {
    if (this.failure) throw this.failure;
    if (this.waiting) throw new Error('one agent request at a time');
    const frame = await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => { this.fail(new AgentRefused('protocol', 'the agent did not answer in time')); }, REQUEST_TIMEOUT_MS);
      this.waiting = f => { clearTimeout(timer); if (f instanceof Error) reject(f); else resolve(f); };
      this.socket.write(encodeFrame({ v: AGENT_PROTOCOL_VERSION, ...req }));
    });
    const reply = frame.json as AgentReply;
    if (!reply || typeof reply !== 'object' || reply.v !== AGENT_PROTOCOL_VERSION || typeof reply.ok !== 'boolean') {
      frame.blob.fill(0);
      throw new AgentRefused('protocol', 'the agent sent a reply this version does not understand');
    }
    if (!reply.ok) {
      frame.blob.fill(0);
      const { kind, message, code } = reply.error;
      if (kind === 'noteseal' && code) throw new NoteSealError(code as NoteSealErrorCode, message);
      throw new AgentRefused(kind, message);
    }
    return { reply, blob: frame.blob };
  }

  async status(): Promise<AgentStatus> {
    const { reply } = await this.request({ op: 'status' });
    if (!reply.status) throw new AgentRefused('protocol', 'the agent sent no status');
    return reply.status;
  }

  /** The data key of the file whose header holds `stanzas`. The caller wipes it. */
  async unwrap(keyfile: string, stanzas: readonly Stanza[], client?: ClientInfo): Promise<Uint8Array> {
    const { blob } = await this.request({ op: 'unwrap', keyfile, stanzas: stanzas.map(s => ({ type: s.type, body: toBase64(s.body) })), client });
    if (blob.length !== 32) { blob.fill(0); throw new AgentRefused('protocol', 'the agent sent a data key of the wrong size'); }
    return blob;
  }

  /** The 16-byte file key of an age header, from the identities the agent's keyring holds. The caller wipes it. */
  async ageUnwrap(keyfile: string, stanzas: readonly AgeStanza[], client?: ClientInfo): Promise<Uint8Array> {
    const { blob } = await this.request({ op: 'age-unwrap', keyfile, stanzas: stanzas.map(s => ({ args: s.args, body: toBase64(s.body) })), client });
    if (blob.length !== 16) { blob.fill(0); throw new AgentRefused('protocol', 'the agent sent an age file key of the wrong size'); }
    return blob;
  }

  /**
   * Each sealed value of a dotenvx file opened by the agent with its imported private key for `publicHex`
   * (null where one does not open); the private key never leaves the agent. The caller wipes them.
   */
  async dotenvxDecrypt(keyfile: string, publicHex: string, sealed: readonly Uint8Array[], client?: ClientInfo): Promise<(Buffer | null)[]> {
    // In batches: a value's plaintext is shorter than its sealed form, so a reply is no larger than its request.
    const out: (Buffer | null)[] = [];
    for (const batch of batchesOf(sealed.map(toBase64), DOTENVX_BATCH_CHARS)) {
      const { blob } = await this.request({ op: 'dotenvx-decrypt', keyfile, publicKey: publicHex, values: batch, client });
      let parsed: unknown;
      try { parsed = JSON.parse(Buffer.from(blob).toString('utf8')); } catch { parsed = null; } finally { blob.fill(0); }
      if (!Array.isArray(parsed) || parsed.length !== batch.length || parsed.some(v => v !== null && typeof v !== 'string')) {
        throw new AgentRefused('protocol', 'the agent sent malformed dotenvx values');
      }
      out.push(...(parsed as (string | null)[]).map(v => v === null ? null : Buffer.from(v, 'base64')));
    }
    return out;
  }

  /**
   * A fresh data key and the stanzas that let the agent's keyring open it again; the caller wipes the key.
   * `signTicket` (when the keyring has an identity) lets the file's write be signed once (signWrite).
   */
  async newFileKeys(keyfile: string, detached: boolean, client?: ClientInfo): Promise<{ dataKey: Uint8Array; stanzas: Stanza[]; signTicket?: string }> {
    const { reply, blob } = await this.request({ op: 'new-file-keys', keyfile, detached, client });
    const stanzas = (reply.stanzas ?? []).map(s => ({ type: s.type, body: fromBase64(s.body) }));
    if (blob.length !== 32 || stanzas.length === 0 || stanzas.some(s => !s.body)) {
      blob.fill(0);
      throw new AgentRefused('protocol', 'the agent sent malformed keys for a new file');
    }
    return { dataKey: blob, stanzas: stanzas as Stanza[], ...(typeof reply.signTicket === 'string' ? { signTicket: reply.signTicket } : {}) };
  }

  /** The write signature's body for the file whose keys came with `ticket` (docs/KEYS.md, "Write signature"). */
  async signWrite(keyfile: string, ticket: string, prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, signedPath?: string): Promise<Uint8Array> {
    const { blob } = await this.request({ op: 'sign-write', keyfile, ticket, prefix: toBase64(prefix), commitment: toBase64(commitment), payloadSha256: toBase64(payloadSha256), ...(signedPath !== undefined ? { path: signedPath } : {}) });
    return blob;
  }

  close(): void {
    this.reader.clear();
    this.socket.destroy();
  }
}
