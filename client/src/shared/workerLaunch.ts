// How the worker process is started (pure: no vscode import, unit-tested).

/**
 * Node options for the worker. Never an inspector by default: an unauthenticated inspector on a known
 * port hands the keys in the worker's memory to any local process (the languageclient's "debug" server
 * options used to add `--inspect=6019` whenever the extension host was debugged). A developer opts in
 * with NOTESEAL_WORKER_INSPECT=<port>, bound to 127.0.0.1 only.
 */
export function workerExecArgv(env: NodeJS.ProcessEnv): string[] {
  const value = env.NOTESEAL_WORKER_INSPECT?.trim();
  if (!value) return [];
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`NOTESEAL_WORKER_INSPECT must be a port number (1-65535), not "${value}".`);
  }
  return ['--nolazy', `--inspect=127.0.0.1:${port}`];
}
