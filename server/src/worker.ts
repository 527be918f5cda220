// The NoteSeal worker: a background Node process started by the extension over IPC.
// All crypto, file I/O and recording run here; the extension side stays a thin UI.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { Method, type ClientRequest, type NotificationParamsOf, type ParamsOf, type ResultOf, type WorkerNotification } from './protocol';
import { VERSION } from './version';

const connection = createConnection(ProposedFeatures.all);
const startedAt = Date.now();

/** Registers a handler for a request of the typed protocol. */
function onRequest<M extends ClientRequest>(method: M, handler: (params: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>>): void {
  connection.onRequest(method, handler as (p: unknown) => unknown);
}

/** Sends a notification of the typed protocol to the client. */
function notify<N extends WorkerNotification>(method: N, params: NotificationParamsOf<N>): void {
  void connection.sendNotification(method, params);
}

connection.onInitialize(() => ({ capabilities: {}, serverInfo: { name: 'noteseal-worker', version: VERSION } }));
connection.onInitialized(() => notify(Method.log, { level: 'info', message: `worker ${VERSION} started (pid ${process.pid}, node ${process.version})` }));

onRequest(Method.workerStatus, () => ({
  version: VERSION,
  pid: process.pid,
  uptimeSeconds: (Date.now() - startedAt) / 1000,
  node: process.version,
  locked: true,
}));

connection.listen();
