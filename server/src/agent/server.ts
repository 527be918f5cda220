// The agent's server side, shared by `noteseal agent start` and the VS Code worker. Pure Node: the backend
// says whether it is unlocked and holds the keyring; this module speaks the protocol, bounds every
// message and connection, and never sends a master key (only one file's data key per request).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import type { Stanza } from '../crypto/format';
import type { Keyring } from '../keys/keyring';
import { MAX_SIGNED_PATH_BYTES, signWriteBody } from '../keys/write-signature';
import { fromBase64, toBase64, wipe } from '../keys/bytes';
import { AgentPathError, canonicalPath, ensurePrivateDir, isNamedPipe } from './paths';
import { AGENT_PROTOCOL_VERSION, type AgentReply, type AgentRequest, type AgentStatus, type ClientInfo, type WireAgeStanza, type WireStanza } from './protocol';
import type { AgeStanza } from '../formats/age';
import { ageFileKeyFor } from '../formats/age-format';
import { eciesDecryptor } from '../formats/dotenvx-ecies';
import { encodeFrame, FrameReader, MAX_BLOB_BYTES } from './wire';

export interface AgentBackend {
  readonly kind: AgentStatus['kind'];
  readonly keyfile: string;
  /** The unlocked keyring, or null while locked: then every key request is refused at once. */
  keyring(): Keyring | null;
  /** Shown to a client refused because the agent is locked. */
  readonly lockedMessage: string;
  lock(): void | Promise<void>;
  /**
   * Runs a whole small command (protocol.ts, op 'command') with the unlocked keyring: its output, or null
   * where the client must run the whole CLI instead. Absent: 'command' is refused (VS Code's worker, which
   * asks before serving the command line, hands out only keys).
   */
  command?(keyring: Keyring, argv: string[], env: Record<string, string>): Promise<Uint8Array | null>;
  /** Absent: `stop` is refused (the VS Code worker ends with its window). */
  stop?(): void | Promise<void>;
  /**
   * Optional consent before handing out a key (VS Code's "Allow ... to decrypt ...?"). `client` is what
   * the client claims (shown only as such); `socket` lets the backend ask the kernel who it is (peer.ts).
   */
  authorize?(op: 'unwrap' | 'new-file-keys', client: ClientInfo, socket: net.Socket): Promise<boolean>;
}

export interface AgentServerOptions {
  /** A connection with no traffic for this long is closed. */
  connectionTimeoutMs?: number;
}

export class AgentInUse extends Error {
  override readonly name = 'AgentInUse';
}

const MAX_CONNECTIONS = 32;
/** Signing tickets outstanding at once, and how long one stays good (a large file takes a while to write). */
const MAX_SIGN_TICKETS = 256;
const SIGN_TICKET_MS = 30 * 60_000;
const MAX_QUEUED_PER_CONNECTION = 8;

function refusal(kind: Extract<AgentReply, { ok: false }>['error']['kind'], message: string, code?: string): AgentReply {
  return { v: AGENT_PROTOCOL_VERSION, ok: false, error: code ? { kind, message, code } : { kind, message } };
}

function decodeStanzas(wire: unknown): Stanza[] | null {
  if (!Array.isArray(wire) || wire.length === 0 || wire.length > 16) return null;
  const out: Stanza[] = [];
  for (const s of wire as WireStanza[]) {
    if (!s || typeof s !== 'object' || !Number.isInteger(s.type) || s.type < 0 || s.type > 255 || typeof s.body !== 'string') return null;
    const body = fromBase64(s.body);
    if (!body || body.length > 2048) return null;
    out.push({ type: s.type, body });
  }
  return out;
}

/** An age header's stanzas from the wire, bounded as NoteSeal's own (at most 64 of up to 2 KiB each). */
function decodeAgeStanzas(wire: unknown): AgeStanza[] | null {
  if (!Array.isArray(wire) || wire.length === 0 || wire.length > 64) return null;
  const out: AgeStanza[] = [];
  for (const s of wire as WireAgeStanza[]) {
    if (!s || typeof s !== 'object' || !Array.isArray(s.args) || s.args.length === 0 || s.args.length > 8
      || !s.args.every(a => typeof a === 'string' && a.length <= 2048) || typeof s.body !== 'string') return null;
    const body = fromBase64(s.body);
    if (!body || body.length > 2048) return null;
    out.push({ args: s.args, body });
  }
  return out;
}

function clientInfo(raw: unknown): ClientInfo {
  const c = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 512) : undefined);
  return { pid: Number.isInteger(c.pid) ? (c.pid as number) : undefined, name: text(c.name), file: text(c.file) };
}

/** A dotenvx request's values from the wire, bounded (at most 10,000 of up to 64 KiB each); null when malformed. */
function decodeDotenvxValues(publicKey: unknown, wire: unknown): Buffer[] | null {
  if (typeof publicKey !== 'string' || !/^[0-9a-fA-F]{66}$/.test(publicKey)) return null;
  if (!Array.isArray(wire) || wire.length > 10_000) return null;
  const out: Buffer[] = [];
  for (const v of wire) {
    if (typeof v !== 'string' || v.length > 87_384 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return null;
    out.push(Buffer.from(v, 'base64'));
  }
  return out;
}

/** Each sealed value opened with the key store's private key for `publicHex` (WRONG_KEY when it holds none). */
async function dotenvxDecryptWith(keyring: Keyring, publicHex: string, sealed: readonly Buffer[]): Promise<Uint8Array> {
  const secret = await keyring.dotenvxSecretKey(publicHex);
  if (!secret) throw new NoteSealError('WRONG_KEY', `this keyfile holds no dotenvx private key for ${publicHex.slice(0, 10)}…`);
  try {
    const open = eciesDecryptor(secret);
    return Buffer.from(JSON.stringify(sealed.map(b => {
      const plain = open(b);
      if (!plain) return null;
      try { return plain.toString('base64'); } finally { plain.fill(0); }
    })), 'utf8');
  } finally { secret.fill(0); }
}

export class AgentServer {
  private server: net.Server | null = null;
  private socketPath: string | null = null;
  private socketIno: number | null = null;
  private lastUse = Date.now();
  private readonly connectionTimeoutMs: number;
  /** One-time tickets issued with new files' keys (ticket → expiry): each lets its holder have one write signed. */
  private readonly signTickets = new Map<string, number>();

  constructor(private readonly backend: AgentBackend, options: AgentServerOptions = {}) {
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
  }

  /**
   * Ends every signing ticket. The backend calls it when it locks (a lock in VS Code reaches the agent as an
   * event, not as a request): a ticket must not outlive the unlock it was issued in.
   */
  endSigningTickets(): void { this.signTickets.clear(); }

  /** Milliseconds since a key was last handed out (or since start): for the idle timeout. */
  get idleMs(): number { return Date.now() - this.lastUse; }

  get path(): string | null { return this.socketPath; }

  /** Listens on `socketPath` (a stale socket left by a dead agent is replaced; a live one is AgentInUse). */
  async listen(socketPath: string): Promise<void> {
    if (isNamedPipe(socketPath)) await refuseHeldPipe(socketPath);
    else await clearStaleSocket(socketPath);
    const server = net.createServer(socket => this.serve(socket));
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        // Windows: libuv creates a pipe's first instance with FILE_FLAG_FIRST_PIPE_INSTANCE (deps/uv/src/win/pipe.c,
        // uv_pipe_bind), so a name another process holds, answering or not, fails here with EADDRINUSE.
        reject(isNamedPipe(socketPath) && e.code === 'EADDRINUSE' ? new AgentInUse(`another program already holds the pipe ${socketPath}: refused`) : e);
      });
      server.listen(socketPath, () => { server.removeAllListeners('error'); resolve(); });
    });
    if (!isNamedPipe(socketPath)) {
      // The 0700 folder already keeps others out; 0600 on the socket is the second fence.
      fs.chmodSync(socketPath, 0o600);
      this.socketIno = fs.lstatSync(socketPath).ino;
    }
    this.server = server;
    this.socketPath = socketPath;
  }

  /** Stops listening, drops every connection and removes the socket file if it is still ours. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    if (this.socketPath && this.socketIno !== null) {
      try { if (fs.lstatSync(this.socketPath).ino === this.socketIno) fs.unlinkSync(this.socketPath); } catch { /* already gone */ }
    }
    server.close();
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    for (const s of this.sockets) s.destroy();
  }

  private readonly sockets = new Set<net.Socket>();

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setTimeout(this.connectionTimeoutMs, () => socket.destroy());
    const reader = new FrameReader();
    let queue = Promise.resolve();
    let queued = 0;
    socket.on('data', chunk => {
      let frames;
      try { frames = reader.push(chunk); } catch (e) {
        socket.end(encodeFrame(refusal('bad-request', (e as Error).message)));
        reader.clear();
        return;
      }
      for (const frame of frames) {
        if (++queued > MAX_QUEUED_PER_CONNECTION) { socket.destroy(); return; }
        queue = queue.then(async () => {
          // A handler bug must cost this one request, never the process (an unhandled rejection ends it).
          const { reply, blob } = await this.handle(frame.json, socket)
            .catch((e: unknown) => ({ reply: refusal('bad-request', `the agent could not handle this request: ${(e as Error)?.message}`), blob: undefined }));
          if (!socket.destroyed) socket.write(encodeFrame(reply, blob));
          wipe(blob);
          queued--;
          if (reply.ok && (frame.json as AgentRequest).op === 'stop') await this.backend.stop?.();
        });
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => { this.sockets.delete(socket); reader.clear(); });
  }

  private async handle(raw: unknown, socket: net.Socket): Promise<{ reply: AgentReply; blob?: Uint8Array }> {
    const req = raw as AgentRequest;
    if (!req || typeof req !== 'object') return { reply: refusal('bad-request', 'not a request') };
    if (req.v !== AGENT_PROTOCOL_VERSION) {
      return { reply: refusal('version', `agent protocol version ${JSON.stringify(req.v) ?? 'none'} is not supported (this agent speaks ${AGENT_PROTOCOL_VERSION})`) };
    }
    const ok = (extra: Partial<Extract<AgentReply, { ok: true }>> = {}): AgentReply => ({ v: AGENT_PROTOCOL_VERSION, ok: true, ...extra });
    if (!this.backend.keyring()) this.signTickets.clear(); // a lock ends every ticket
    switch (req.op) {
      case 'status':
        return { reply: ok({ status: this.status() }) };
      case 'lock':
        await this.backend.lock();
        this.signTickets.clear();
        return { reply: ok() };
      case 'stop':
        if (!this.backend.stop) return { reply: refusal('unsupported', 'this agent is NoteSeal in VS Code: it stops with its window (lock it instead)') };
        await this.backend.lock();
        return { reply: ok() };
      case 'unwrap':
      case 'age-unwrap':
      case 'dotenvx-decrypt':
      case 'new-file-keys':
        return this.keyRequest(req, socket);
      case 'sign-write':
        return this.signWrite(req);
      case 'command':
        return this.command(req);
      default:
        return { reply: refusal('bad-request', `unknown operation ${JSON.stringify((req as { op?: unknown }).op)}`) };
    }
  }

  private status(): AgentStatus {
    return {
      locked: this.backend.keyring() === null,
      keyfile: this.backend.keyfile,
      kind: this.backend.kind,
      pid: process.pid,
    };
  }

  private async keyRequest(req: Extract<AgentRequest, { op: 'unwrap' | 'age-unwrap' | 'dotenvx-decrypt' | 'new-file-keys' }>, socket: net.Socket): Promise<{ reply: AgentReply; blob?: Uint8Array }> {
    const wrongKeyfile = this.refuseOtherKeyfile(req.keyfile);
    if (wrongKeyfile) return { reply: wrongKeyfile };
    const stanzas = req.op === 'unwrap' ? decodeStanzas(req.stanzas) : [];
    const ageStanzas = req.op === 'age-unwrap' ? decodeAgeStanzas(req.stanzas) : [];
    if (!stanzas || !ageStanzas) return { reply: refusal('bad-request', 'malformed key stanzas') };
    const sealed = req.op === 'dotenvx-decrypt' ? decodeDotenvxValues(req.publicKey, req.values) : [];
    if (!sealed) return { reply: refusal('bad-request', 'malformed dotenvx values') };
    if (!this.backend.keyring()) return { reply: refusal('locked', this.backend.lockedMessage) };
    if (this.backend.authorize) {
      // The user may take a while to answer: the idle-connection timeout waits with them.
      socket.setTimeout(0);
      const allowed = await this.backend.authorize(req.op === 'age-unwrap' || req.op === 'dotenvx-decrypt' ? 'unwrap' : req.op, clientInfo(req.client), socket).catch(() => false);
      socket.setTimeout(this.connectionTimeoutMs);
      if (!allowed) return { reply: refusal('denied', 'the request was denied in VS Code (NoteSeal asks before serving the command line: noteseal.agent.askBeforeServing)') };
    }
    // Checked again: the window may have locked while the consent prompt was open.
    const keyring = this.backend.keyring();
    if (!keyring) return { reply: refusal('locked', this.backend.lockedMessage) };
    try {
      if (req.op === 'age-unwrap') {
        const fileKey = await ageFileKeyFor(keyring, ageStanzas);
        this.lastUse = Date.now();
        return { reply: { v: AGENT_PROTOCOL_VERSION, ok: true }, blob: fileKey };
      }
      if (req.op === 'dotenvx-decrypt') {
        const blob = await dotenvxDecryptWith(keyring, req.publicKey.toLowerCase(), sealed);
        this.lastUse = Date.now();
        return { reply: { v: AGENT_PROTOCOL_VERSION, ok: true }, blob };
      }
      if (req.op === 'unwrap') {
        const dataKey = await keyring.unwrap(stanzas);
        this.lastUse = Date.now();
        return { reply: { v: AGENT_PROTOCOL_VERSION, ok: true }, blob: dataKey };
      }
      const keys = await keyring.newFileStanzas({ detached: req.detached === true });
      this.lastUse = Date.now();
      const signTicket = (await keyring.identity()) ? this.issueSignTicket() : undefined;
      return {
        reply: {
          v: AGENT_PROTOCOL_VERSION, ok: true,
          stanzas: keys.stanzas.map(s => ({ type: s.type, body: toBase64(s.body) })),
          ...(keys.detachedKeyId ? { detachedKeyId: keys.detachedKeyId } : {}),
          ...(signTicket ? { signTicket } : {}),
        },
        blob: keys.dataKey,
      };
    } catch (e) {
      if (isNoteSealError(e)) return { reply: refusal('noteseal', e.message, e.code) };
      return { reply: refusal('noteseal', `the agent failed: ${(e as Error).message}`, 'INVALID_ARGUMENT') };
    }
  }

  private async command(req: Extract<AgentRequest, { op: 'command' }>): Promise<{ reply: AgentReply; blob?: Uint8Array }> {
    const run = this.backend.command;
    if (!run) return { reply: refusal('unsupported', 'this agent does not run commands') };
    const { argv, env } = req;
    if (!Array.isArray(argv) || argv.length === 0 || argv.length > 256 || !argv.every(a => typeof a === 'string' && a.length <= 4096)
      || !env || typeof env !== 'object' || Array.isArray(env) || Object.keys(env).length > 32
      || !Object.values(env).every(v => typeof v === 'string' && v.length <= 4096)) {
      return { reply: refusal('bad-request', 'malformed command') };
    }
    const keyring = this.backend.keyring();
    if (!keyring) return { reply: refusal('locked', this.backend.lockedMessage) };
    const out = await run.call(this.backend, keyring, argv, env).catch(() => null);
    if (!out) return { reply: refusal('unsupported', 'run the whole command line for this') };
    if (out.length > MAX_BLOB_BYTES) { wipe(out); return { reply: refusal('unsupported', 'the output is too large for one reply') }; }
    this.lastUse = Date.now();
    return { reply: { v: AGENT_PROTOCOL_VERSION, ok: true }, blob: out };
  }

  /** The refusal of a request naming a keyfile this agent does not serve, or undefined when it serves it. */
  private refuseOtherKeyfile(keyfile: unknown): AgentReply | undefined {
    if (typeof keyfile === 'string' && canonicalPath(keyfile) === canonicalPath(this.backend.keyfile)) return undefined;
    return refusal('keyfile', `this agent serves the keyfile ${this.backend.keyfile}`);
  }

  private issueSignTicket(): string {
    const now = Date.now();
    for (const [t, expires] of this.signTickets) if (expires <= now) this.signTickets.delete(t);
    while (this.signTickets.size >= MAX_SIGN_TICKETS) this.signTickets.delete(this.signTickets.keys().next().value!);
    const ticket = randomBytes(16).toString('hex');
    this.signTickets.set(ticket, now + SIGN_TICKET_MS);
    return ticket;
  }

  /**
   * Signs one write with the keyring's signing key, for the holder of a ticket issued with that file's keys
   * (so consent given for the new file covers its signature, and a ticket signs once). The signed message is
   * always a write signature (its domain tag is added here), never bytes of the client's choosing.
   */
  private async signWrite(req: Extract<AgentRequest, { op: 'sign-write' }>): Promise<{ reply: AgentReply; blob?: Uint8Array }> {
    const wrongKeyfile = this.refuseOtherKeyfile(req.keyfile);
    if (wrongKeyfile) return { reply: wrongKeyfile };
    const prefix = exactBytes(req.prefix, 31), commitment = exactBytes(req.commitment, 32), payloadSha256 = exactBytes(req.payloadSha256, 32);
    const signedPath = req.path;
    if (!prefix || !commitment || !payloadSha256 || (signedPath !== undefined && (typeof signedPath !== 'string' || signedPath.length === 0 || Buffer.byteLength(signedPath) > MAX_SIGNED_PATH_BYTES))) {
      return { reply: refusal('bad-request', 'malformed write to sign') };
    }
    const keyring = this.backend.keyring();
    if (!keyring) return { reply: refusal('locked', this.backend.lockedMessage) };
    const expires = typeof req.ticket === 'string' ? this.signTickets.get(req.ticket) : undefined;
    if (expires === undefined || expires <= Date.now()) {
      return { reply: refusal('denied', 'no valid signing ticket: each ticket comes with a new file\'s keys, signs one write and ends when NoteSeal locks') };
    }
    this.signTickets.delete(req.ticket);
    const identity = await keyring.identity();
    if (!identity) return { reply: refusal('unsupported', 'this keyfile has no identity to sign with (run noteseal identity)') };
    try {
      return { reply: { v: AGENT_PROTOCOL_VERSION, ok: true }, blob: signWriteBody(identity.signing, prefix, commitment, payloadSha256, Date.now(), signedPath) };
    } catch (e) {
      return { reply: refusal('locked', `the agent could not sign: ${(e as Error).message}`) };
    }
  }
}

/** Bytes of a base64 field of exactly `length` bytes, or null. */
function exactBytes(v: unknown, length: number): Uint8Array | null {
  const b = typeof v === 'string' ? fromBase64(v) : null;
  return b && b.length === length ? b : null;
}

/** True when something accepts connections at `socketPath` (a socket file or a named pipe). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise<boolean>(resolve => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Before serving a named pipe: a pipe that answers is another program's (an agent, a window, or a squatter
 * waiting for key requests), and NoteSeal must never become a second instance of it. Windows refuses that at
 * bind time too (listen above); Wine does not, so this check is what the Wine lane proves.
 */
async function refuseHeldPipe(pipe: string): Promise<void> {
  if (await answers(pipe)) throw new AgentInUse(`an agent (or another program) already answers at ${pipe}`);
}

/** A socket file left by an agent that died is removed; a live agent, or a non-socket, is refused. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  ensurePrivateDir(path.dirname(socketPath));
  let st: fs.Stats;
  try { st = fs.lstatSync(socketPath); } catch { return; }
  if (!st.isSocket()) throw new AgentPathError(`${socketPath} exists and is not a socket: refused`);
  if (await answers(socketPath)) throw new AgentInUse(`an agent already answers at ${socketPath}`);
  fs.unlinkSync(socketPath);
}
