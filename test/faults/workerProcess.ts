// The real worker bundle (dist/worker.js) run standalone, as VS Code's languageclient starts it: forked with
// --node-ipc and structured-clone serialization, spoken to over JSON-RPC with the typed protocol. Used by the
// fault tests (a full or read-only disk, another Unix user), the kill loops and the load runs.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { Method, type ClientRequest, type ParamsOf, type ResultOf, type WorkerInitOptions } from '../../server/src/protocol';
import { projectRoot } from '../unit/projectRoot';

/** The bundles under test: dist/, or NOTESEAL_DIST (a long soak runs on a copy, so rebuilding meanwhile is safe). */
export function distDir(): string {
  return process.env.NOTESEAL_DIST || path.join(projectRoot, 'dist');
}

export interface WorkerOptions {
  keyfile: string;
  /** Run as this Unix user (root only). */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** More initialization options (a test hook such as testSlowSaveMs). */
  init?: Partial<WorkerInitOptions>;
  /** The process the worker watches as VS Code's (initialize's processId; default: this one). */
  parentPid?: number;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly notifications: { method: string; params: unknown }[] = [];

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    // What a client without SecretStorage answers: nothing remembered, stores ignored.
    this.connection.onRequest(Method.secretsGet, () => ({ value: null }));
    this.connection.onRequest(Method.secretsStore, () => undefined);
    this.connection.onRequest(Method.secretsDelete, () => undefined);
    this.connection.onNotification((method, params) => { this.notifications.push({ method, params }); });
    this.connection.onError(() => undefined);
    this.connection.onClose(() => undefined);
    this.connection.listen();
  }

  static async start(opts: WorkerOptions): Promise<WorkerProcess> {
    const child = fork(path.join(distDir(), 'worker.js'), ['--node-ipc'], {
      // Its own process group: stop() ends the worker and whatever it started (a capture tool), even after a
      // SIGKILL of the worker alone has orphaned them.
      serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: '/', detached: true,
      // NOTESEAL_TEST_RUN marks the run's processes for the runner's final check (scripts/leftoverProcesses.mjs).
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NOTESEAL_TEST_RUN: process.env.NOTESEAL_TEST_RUN, ...opts.env },
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    const w = new WorkerProcess(child);
    const init: WorkerInitOptions = { keyfile: opts.keyfile, testFastKdf: true, agent: false, ...opts.init };
    await w.connection.sendRequest('initialize', { processId: opts.parentPid ?? process.pid, rootUri: null, capabilities: {}, initializationOptions: init });
    await w.connection.sendNotification('initialized', {});
    return w;
  }

  request<M extends ClientRequest>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.connection.sendRequest(method, params) as Promise<ResultOf<M>>;
  }

  progressOf(token: string): { done: number; total: number }[] {
    return this.notifications.filter(n => n.method === Method.progress && (n.params as { token: string }).token === token)
      .map(n => n.params as { done: number; total: number });
  }

  /** Every notification of `method` received so far, oldest first. */
  notificationsOf(method: string): unknown[] {
    return this.notifications.filter(n => n.method === method).map(n => n.params);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void { this.child.kill(signal); }

  /** Stops the worker as VS Code's languageclient does: the shutdown request, then the exit notification. */
  async shutdown(): Promise<void> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
  }

  /** Ends the worker and every process of its group (what it started), whether or not the worker still runs. */
  async stop(): Promise<void> {
    try { process.kill(-this.child.pid!, 'SIGKILL'); } catch { /* the group is gone */ }
    if (this.child.exitCode === null && this.child.signalCode === null) await this.exited;
    this.connection.dispose();
  }
}

/** The worker's JSON-RPC error, as the client sees it: message and the stable code in `data`. */
export async function workerError(p: Promise<unknown>): Promise<{ message: string; code?: string }> {
  try { await p; } catch (e) {
    const err = e as { message: string; data?: { code?: string } };
    return { message: err.message, code: err.data?.code };
  }
  throw new Error('expected the worker to refuse, but it succeeded');
}
