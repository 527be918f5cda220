// The VS Code worker as an agent: while the vault is unlocked, the CLI in any terminal gets file keys
// from it over the agent protocol (server/src/agent). It serves two sockets:
//   <agent dir>/vscode-<pid>.sock  this window's own (VS Code's terminals get it as NOTESEAL_AGENT_SOCK)
//   <agent dir>/agent.sock         the default path, if no other agent holds it (terminals outside VS Code)
// Locked means every key request is refused at once (the backend reads the vault's state per request).
// The sockets go with the worker process, so the agent never outlives its window; a restarted worker
// starts with a new, locked vault.
import path from 'node:path';
import { AgentInUse, AgentServer, type AgentBackend } from '../agent/server';
import { agentDir, defaultSocketPath } from '../agent/paths';
import type { VaultService } from './vaultService';

export interface WorkerAgentOptions {
  /** Locks the vault the way the UI does (ends a recording first). */
  lock(): Promise<unknown>;
  log(message: string): void;
  env?: NodeJS.ProcessEnv;
}

export class WorkerAgent {
  private readonly servers: AgentServer[] = [];
  /** This window's socket, once serving. */
  socketPath: string | null = null;

  constructor(private readonly vault: VaultService, private readonly options: WorkerAgentOptions) {}

  private backend(): AgentBackend {
    const vault = this.vault;
    return {
      kind: 'vscode',
      keyfile: vault.keyfilePath,
      keyring: () => { try { return vault.unlocked(); } catch { return null; } },
      lockedMessage: 'NoteSeal is locked in VS Code: unlock it there (status bar) and try again',
      lock: async () => { await this.options.lock(); },
    };
  }

  async start(): Promise<void> {
    if (process.platform === 'win32') return; // named pipes: designed for (paths.ts), not wired or tested yet
    const env = this.options.env ?? process.env;
    const own = path.join(agentDir(env), `vscode-${process.pid}.sock`);
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
