// Starts the worker process with vscode-languageclient over IPC, restarts it when it dies, and offers
// requests typed by the shared protocol module.
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, RevealOutputChannelOn, State, TransportKind,
  type CloseHandlerResult, type ErrorHandler, type ErrorHandlerResult, type ForkOptions } from 'vscode-languageclient/node';
import {
  Method, WORKER_ERROR, type ClientRequest, type NotificationParamsOf, type ParamsOf, type ResultOf, type WorkerErrorCode,
  type WorkerInitOptions, type WorkerNotification, type WorkerRequest, type WorkerRequestParamsOf, type WorkerRequestResultOf,
} from '../../../server/src/protocol';
import type { Logger } from './logger';
import { workerExecArgv } from './workerLaunch';

/** Restarts allowed inside RESTART_WINDOW_MS before we give up (a worker that crashes on start would loop). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;
/**
 * How long a stop waits for the worker's shutdown answer; then the languageclient kills it (2 s later). Longer than
 * the worker's own wait for the notes it is writing plus sealing what is left (server/src/vault/writeJoin.ts).
 */
const STOP_TIMEOUT_MS = 8000;

/** A request the worker refused, with the protocol's stable error code. */
export class WorkerCallError extends Error {
  constructor(readonly code: WorkerErrorCode, message: string) { super(message); }
}

export function isWorkerError(e: unknown, ...codes: WorkerErrorCode[]): e is WorkerCallError {
  return e instanceof WorkerCallError && (codes.length === 0 || codes.includes(e.code));
}

export class WorkerClient implements vscode.Disposable {
  private readonly client: LanguageClient;
  private readonly restarts: number[] = [];
  private readonly restartedEmitter = new vscode.EventEmitter<void>();
  /** Fires after the worker died unexpectedly and a new one is ready. */
  readonly onDidRestart = this.restartedEmitter.event;

  constructor(context: vscode.ExtensionContext, private readonly log: Logger, private readonly initializationOptions: WorkerInitOptions) {
    const module = context.asAbsolutePath('dist/worker.js');
    this.client = new LanguageClient('noteseal', 'NoteSeal worker',
      // One server description, not run/debug: the languageclient picks `debug` whenever the extension host
      // runs under a debugger, and that used to open an inspector (workerLaunch.ts).
      { module, transport: TransportKind.ipc, options: {
        // 'advanced' (structured clone) IPC serialization: Node's default JSON channel re-scans its buffer
        // for each incoming piece, which makes a 20 MiB note take a second to cross; this is linear.
        serialization: 'advanced',
        execArgv: workerExecArgv(process.env),
        // Not the workspace (the languageclient's default): nothing relative may resolve inside a cloned repo.
        cwd: context.extensionPath,
      } as ForkOptions },
      {
        documentSelector: [],
        outputChannel: log.channel,
        // Tracing off for good. vscode-jsonrpc's tracer logs every request's params and results (passphrases,
        // the remembered master key, note bytes) into file-backed logs. The languageclient turns it on when
        // its trace channel's log level is Trace, reading `noteseal.trace.server` (which a workspace could
        // set) for the verbosity (client.js refreshTrace/hookLogLevelChanged). Its trace channel is this
        // one, permanently at LogLevel.Off and discarding everything, so neither can switch it on.
        traceOutputChannel: silentLogChannel(),
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        errorHandler: this.errorHandler(),
        initializationOptions,
      });
    this.client.onDidChangeState(e => {
      if (e.oldState === State.Starting && e.newState === State.Running && this.restarts.length > 0) {
        this.log.info('worker restarted');
        this.restartedEmitter.fire();
      }
    });
    this.onNotification(Method.log, m => this.log.write(m.level, `[worker] ${m.message}`));
  }

  /** Handles a notification of the typed protocol (survives worker restarts). */
  onNotification<N extends WorkerNotification>(method: N, handler: (params: NotificationParamsOf<N>) => void): vscode.Disposable {
    return this.client.onNotification(method, handler);
  }

  /** Answers a request the worker sends to the client (survives worker restarts). */
  onRequest<M extends WorkerRequest>(method: M, handler: (params: WorkerRequestParamsOf<M>) => Promise<WorkerRequestResultOf<M>>): vscode.Disposable {
    return this.client.onRequest(method, handler);
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  get isRunning(): boolean {
    return this.client.state === State.Running;
  }

  /** Sends a request of the typed protocol; waits for a restarting worker to be back first. */
  async request<M extends ClientRequest>(method: M, ...params: ParamsOf<M> extends void ? [] : [ParamsOf<M>]): Promise<ResultOf<M>> {
    await this.whenRunning();
    try {
      return await (this.client.sendRequest(method, ...(params as [unknown])) as Promise<ResultOf<M>>);
    } catch (e) {
      const err = e as { code?: number; message?: string; data?: { code?: WorkerErrorCode } };
      if (err?.code === WORKER_ERROR && err.data?.code) throw new WorkerCallError(err.data.code, err.message ?? err.data.code);
      throw e;
    }
  }

  /**
   * Stops the worker and starts a fresh one (the user's "Restart Worker" command). Not LanguageClient.restart():
   * its stop gives the worker 2 s, and the worker's shutdown may wait longer for a note being written.
   */
  async restart(): Promise<void> {
    this.log.info('worker restart requested');
    await this.client.stop(STOP_TIMEOUT_MS);
    await this.client.start();
  }

  private async whenRunning(timeoutMs = 20_000): Promise<void> {
    if (this.client.state === State.Running) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { sub.dispose(); reject(new Error('The NoteSeal worker is not running.')); }, timeoutMs);
      const sub = this.client.onDidChangeState(e => {
        if (e.newState === State.Running) { clearTimeout(timer); sub.dispose(); resolve(); }
      });
    });
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        this.restarts.push(now);
        while (this.restarts.length && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();
        if (this.restarts.length > MAX_RESTARTS) {
          const message = `The NoteSeal worker stopped ${this.restarts.length} times in 3 minutes and will not be restarted. Run "NoteSeal: Restart Worker" to try again.`;
          this.log.error(message);
          return { action: CloseAction.DoNotRestart, message };
        }
        this.log.warn('worker stopped unexpectedly; restarting it');
        void vscode.window.showWarningMessage(vscode.l10n.t('The NoteSeal worker stopped unexpectedly and was restarted. Its keys are gone: NoteSeal is locked.'));
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }

  /** Stops the worker (deactivate): it answers once the notes it is writing are written or sealed. */
  async stop(): Promise<void> {
    if (this.client.state !== State.Stopped) await this.client.stop(STOP_TIMEOUT_MS).catch(() => undefined);
  }

  /** The integration tests only (testApi.ts): a fresh worker started with these options changed. */
  async restartWith(options: Partial<WorkerInitOptions>): Promise<void> {
    Object.assign(this.initializationOptions, options);
    if (this.client.state === State.Stopped) await this.client.start(); else await this.restart();
  }

  async dispose(): Promise<void> {
    this.restartedEmitter.dispose();
    await this.stop();
  }
}

/** A LogOutputChannel that is Off and stays Off: the languageclient's trace channel (see above). */
function silentLogChannel(): vscode.LogOutputChannel {
  const nothing = () => undefined;
  return {
    name: 'NoteSeal worker trace (disabled)',
    logLevel: vscode.LogLevel.Off,
    onDidChangeLogLevel: () => new vscode.Disposable(nothing),
    trace: nothing, debug: nothing, info: nothing, warn: nothing, error: nothing,
    append: nothing, appendLine: nothing, replace: nothing, clear: nothing, show: nothing, hide: nothing, dispose: nothing,
  };
}
