// The agent protocol, version 1 (docs/ARCHITECTURE.md, "Agent"). One request, one reply, in order; a
// connection may carry several. The master key never crosses it: a client sends a file's header stanzas
// and gets that one file's data key (in the frame's blob), or asks for a fresh data key for a new file.
// A new file's keys come with a one-time ticket: with it, and only once, the agent signs that file's write
// (`sign-write`), so files the CLI writes through the agent are signed as the keyring's owner.
export const AGENT_PROTOCOL_VERSION = 1;

export interface WireStanza { type: number; body: string /* base64 */ }
export interface WireAgeStanza { args: string[]; body: string /* base64 */ }

/** Who is asking and about what: shown in a confirmation prompt, never trusted for access control. */
export interface ClientInfo { pid?: number; name?: string; file?: string }

export type AgentRequest =
  | { v: 1; op: 'status' }
  | { v: 1; op: 'unwrap'; keyfile: string; stanzas: WireStanza[]; client?: ClientInfo }
  | { v: 1; op: 'new-file-keys'; keyfile: string; detached: boolean; client?: ClientInfo }
  /** An age file's header stanzas (arguments and base64 body): the blob is its 16-byte file key (docs/CLI.md, "age files"). */
  | { v: 1; op: 'age-unwrap'; keyfile: string; stanzas: WireAgeStanza[]; client?: ClientInfo }
  /**
   * A dotenvx file's sealed values (base64 of each `encrypted:` value) for its DOTENV_PUBLIC_KEY (66 hex digits):
   * the blob is a JSON array of each value's plaintext (base64), or null where it does not open. The private
   * key itself never crosses (docs/CLI.md, "dotenvx files").
   */
  | { v: 1; op: 'dotenvx-decrypt'; keyfile: string; publicKey: string; values: string[]; client?: ClientInfo }
  /** prefix: the file's 31 immutable bytes; commitment and payloadSha256: 32 bytes each; all base64. The blob: the stanza's body. */
  | { v: 1; op: 'sign-write'; keyfile: string; ticket: string; prefix: string; commitment: string; payloadSha256: string; /** The signed path (a version 2 signature); absent: version 1. */ path?: string }
  /**
   * A whole small command (`decrypt FILE`, `exec FILE... -- CMD`, files given by absolute path) run by the agent
   * itself with the client's environment (`env`: only the variables those commands read), so a short command
   * need not load the CLI (docs/CLI.md, "Agent"). The blob: decrypt's stdout, or exec's variables as JSON
   * pairs. Refused as 'unsupported' whenever the whole CLI could answer otherwise (any warning or error, any
   * option, a format other than NoteSeal's own): the client then runs the whole CLI, which says why.
   */
  | { v: 1; op: 'command'; argv: string[]; env: Record<string, string> }
  | { v: 1; op: 'lock' }
  | { v: 1; op: 'stop' };

export type AgentOp = AgentRequest['op'];

/** Why a request was refused. `noteseal` carries a NoteSealErrorCode (wrong key, key shredded...). */
export type AgentErrorKind = 'locked' | 'keyfile' | 'noteseal' | 'denied' | 'unsupported' | 'bad-request' | 'version';

export interface AgentStatus { locked: boolean; keyfile: string; kind: 'cli' | 'vscode'; pid: number }

export type AgentReply =
  | { v: 1; ok: true; status?: AgentStatus; stanzas?: WireStanza[]; detachedKeyId?: string; signTicket?: string }
  | { v: 1; ok: false; error: { kind: AgentErrorKind; message: string; code?: string } };
