// The VS Code worker as an agent: while the vault is unlocked, the CLI in any terminal gets file keys
// from it over the agent protocol (server/src/agent). It serves two sockets:
//   <agent dir>/vscode-<pid>.sock  this window's own (VS Code's terminals get it as NOTESEAL_AGENT_SOCK)
//   <agent dir>/agent.sock         the default path, if no other agent holds it (terminals outside VS Code)
// On Windows the same two as named pipes: \\.\pipe\noteseal-agent-<user>-vscode-<pid> and \\.\pipe\noteseal-agent-<user>.
// Locked means every key request is refused at once (the backend reads the vault's state per request).
// The sockets go with the worker process, so the agent never outlives its window; a restarted worker
// starts with a new, locked vault.
import type net from 'node:net';
import { AgentInUse, AgentServer, type AgentBackend } from '../agent/server';
import { defaultSocketPath, windowSocketPath } from '../agent/paths';
import { identifyPeer, peerChain, peerLabel, sessionGrantable, sessionKeyOf, type PeerProcess } from '../agent/peer';
import type { ClientInfo } from '../agent/protocol';
import type { AgentConsentAnswer, AgentConsentQuestion } from '../protocol';
import type { VaultService } from './vaultService';

/** A question nobody answers is a no; below the CLI's own 60 s request timeout. */
export const CONSENT_TIMEOUT_MS = 45_000;

export interface WorkerAgentOptions {
  /** Locks the vault the way the UI does (ends a recording first). */
  lock(): Promise<unknown>;
  log(message: string): void;
  env?: NodeJS.ProcessEnv;
  /** Asks the user in VS Code (Method.agentConsent); used while askBeforeServing is on. */
  consent?(question: AgentConsentQuestion): Promise<AgentConsentAnswer>;
  /** The initial `noteseal.agent.askBeforeServing`. */
  askBeforeServing?: boolean;
  /** For tests: where the kernel's view of the peer comes from. */
  identify?(socket: net.Socket): Promise<PeerProcess | null>;
}

export class WorkerAgent {
  private readonly servers: AgentServer[] = [];
  /** This window's socket, once serving. */
  socketPath: string | null = null;

  askBeforeServing: boolean;
  /**
   * Parent processes (pid, start time and executable: sessionKeyOf) whose clients are allowed "for this
   * session": forgotten when the vault locks. Never a program as such: allowing `/bin/sh` would allow every
   * process any shell starts.
   */
  private readonly sessionAllowed = new Set<string>();

  constructor(private readonly vault: VaultService, private readonly options: WorkerAgentOptions) {
    this.askBeforeServing = options.askBeforeServing === true;
    vault.onDidChange(state => {
      if (!state.locked) return;
      // A lock ends the session's allowances and every signing ticket at once, not at the next request.
      this.sessionAllowed.clear();
      for (const server of this.servers) server.endSigningTickets();
    });
  }

  /** With askBeforeServing on, asks the user; a dismissal, a timeout or a failure is a denial. */
  private async authorize(op: 'unwrap' | 'new-file-keys', client: ClientInfo, socket: net.Socket): Promise<boolean> {
    if (!this.askBeforeServing) return true;
    if (!this.options.consent) return false;
    const peer = await (this.options.identify ?? identifyPeer)(socket);
    // Only a parent the kernel named, that is no shell or interpreter, can be allowed for the session.
    const sessionKey = sessionGrantable(peer) ? sessionKeyOf(peer) : null;
    if (sessionKey && this.sessionAllowed.has(sessionKey)) return true;
    const label = peerLabel(peer);
    const chain = peerChain(peer);
    const question: AgentConsentQuestion = {
      op: op === 'unwrap' ? 'decrypt' : 'encrypt',
      program: label.name,
      ...(label.pid !== undefined ? { pid: label.pid } : {}),
      ...(client.file ? { file: client.file } : {}),
      ...(chain.length ? { chain } : {}),
      sessionGrant: sessionKey !== null,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<AgentConsentAnswer>(resolve => { timer = setTimeout(() => resolve('deny'), CONSENT_TIMEOUT_MS); });
    const asked = await Promise.race([this.options.consent(question).catch((): AgentConsentAnswer => 'deny'), timeout]);
    clearTimeout(timer);
    // A session answer where none was offered counts as once.
    const answer: AgentConsentAnswer = asked === 'session' && !sessionKey ? 'once' : asked;
    this.options.log(`agent: ${question.program} (pid ${question.pid ?? '?'}${chain.length > 1 ? `; ${chain.join(' → ')}` : ''}) ${question.op} ${answer === 'deny' ? 'denied' : `allowed (${answer})`}`);
    // Not if the vault locked while the question was open: "this session" has ended.
    if (answer === 'session' && sessionKey && this.unlocked()) this.sessionAllowed.add(sessionKey);
    // The vault may have locked while the question was open: the server checks again after this.
    return answer !== 'deny';
  }

  private unlocked(): boolean { try { this.vault.unlocked(); return true; } catch { return false; } }

  private backend(): AgentBackend {
    const vault = this.vault;
    return {
      kind: 'vscode',
      keyfile: vault.keyfilePath,
      keyring: () => { try { return vault.unlocked(); } catch { return null; } },
      lockedMessage: 'NoteSeal is locked in VS Code: unlock it there (status bar) and try again',
      lock: async () => { await this.options.lock(); },
      authorize: (op, client, socket) => this.authorize(op, client, socket),
    };
  }

  async start(): Promise<void> {
    const env = this.options.env ?? process.env;
    const own = windowSocketPath(process.pid, env);
    try {
      const server = new AgentServer(this.backend());
      await server.listen(own);
      this.servers.push(server);
      this.socketPath = own;
      this.options.log(`agent serving at ${own}`);
    } catch (e) {
      this.options.log(`agent not started: ${(e as Error).message}`);
      return;
    }
    const fallback = defaultSocketPath(env);
    try {
      const server = new AgentServer(this.backend());
      await server.listen(fallback);
      this.servers.push(server);
      this.options.log(`agent also serving at the default path ${fallback}`);
    } catch (e) {
      if (!(e instanceof AgentInUse)) this.options.log(`agent not serving the default path: ${(e as Error).message}`);
    }
  }

  /** Synchronous enough for process 'exit': removes the socket files. */
  close(): void {
    for (const s of this.servers.splice(0)) void s.close();
    this.socketPath = null;
  }
}
