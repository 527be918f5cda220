// The one typed contract between the extension (client/) and the worker (server/).
// Both sides import this module; method names never appear as string literals anywhere else.
// Each side wraps its own JSON-RPC library with `sendRequest`/`onRequest` helpers typed by these maps,
// so a renamed method or a changed parameter type is a compile error on both sides at once.

/** Requests the client sends to the worker. */
export interface ClientToWorkerRequests {
  'noteseal/workerStatus': { params: void; result: WorkerStatus };
}

/** Notifications the worker sends to the client (fire and forget). */
export interface WorkerToClientNotifications {
  'noteseal/log': { params: LogMessage };
}

export const Method = {
  workerStatus: 'noteseal/workerStatus',
  log: 'noteseal/log',
} as const satisfies Record<string, keyof ClientToWorkerRequests | keyof WorkerToClientNotifications>;

export type ClientRequest = keyof ClientToWorkerRequests;
export type ParamsOf<M extends ClientRequest> = ClientToWorkerRequests[M]['params'];
export type ResultOf<M extends ClientRequest> = ClientToWorkerRequests[M]['result'];
export type WorkerNotification = keyof WorkerToClientNotifications;
export type NotificationParamsOf<N extends WorkerNotification> = WorkerToClientNotifications[N]['params'];

export interface WorkerStatus {
  /** NoteSeal version the worker was built from. */
  version: string;
  /** OS process id of the worker (lets tests and the status command see a restart). */
  pid: number;
  /** Seconds since the worker process started. */
  uptimeSeconds: number;
  /** Node.js version the worker runs on. */
  node: string;
  /** True while no key is held in the worker's memory. */
  locked: boolean;
}

/** Lifecycle events only: never file content, names of secrets or keys. */
export interface LogMessage {
  level: 'info' | 'warn' | 'error';
  message: string;
}
