// The floor of a separate process (issue 11): a child on the same channel as the worker (forked with
// --node-ipc, structured-clone serialization, vscode-jsonrpc) that does nothing with the bytes. Writing to
// it costs what crossing the process boundary costs; reading returns a buffer it already holds.
// Forked by test/bench/worker.ts.
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';

const held = new Map<number, Buffer>();
const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
connection.onRequest('echo/write', (p: { data: Uint8Array }) => p.data.length);
connection.onRequest('echo/read', (p: { size: number }) => {
  let b = held.get(p.size);
  if (!b) held.set(p.size, b = Buffer.alloc(p.size, 0x61));
  return b;
});
connection.listen();
