// Shared by every feature: the output channel, the worker client, `noteseal:` URIs, settings rules and command ids.
// Owns no feature of its own and imports no other client folder; from the worker's side only the protocol and its shared module.
import * as vscode from 'vscode';
import { absoluteKeyfilePath } from '../../../server/src/shared';
import { Method } from '../../../server/src/protocol';
import { Commands } from './commands';
import { Logger } from './logger';
import { WorkerClient } from './workerClient';

/** Registers a command whose failure is logged and shown, never thrown at VS Code. */
export type RegisterCommand = (id: string, run: (...args: never[]) => unknown) => void;

/** What every feature folder is handed. */
export interface Core {
  log: Logger;
  worker: WorkerClient;
  command: RegisterCommand;
  /** The `noteseal.keyfile` setting, `~`-expanded and absolute, if set. */
  keyfile: string | undefined;
  /** Starts the worker; a failure is logged and shown, then thrown (activation fails). */
  start(): Promise<void>;
}

/** The logger, the worker client (not started yet), the command wrapper and the worker's own commands. */
export function registerShared(context: vscode.ExtensionContext, deps: { agentAskBeforeServing: boolean }): Core {
  const log = new Logger();
  context.subscriptions.push(log);
  log.info(`activating NoteSeal ${context.extension.packageJSON.version} (VS Code ${vscode.version}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);

  const keyfile = keyfileSetting();
  // Weak test KDF only in a test or development host, never for an installed extension (issue 10).
  const testFastKdf = context.extensionMode !== vscode.ExtensionMode.Production && process.env.NOTESEAL_TEST_FAST_KDF === '1';
  const agent = vscode.workspace.getConfiguration('noteseal').get<boolean>('agent.enabled', true);
  // A slow worker, for the tests of the backup window and the shutdown join (issue 22 §2); never in an installed extension.
  const testSlowSaveMs = context.extensionMode !== vscode.ExtensionMode.Production ? Number(process.env.NOTESEAL_TEST_SLOW_SAVE_MS) || 0 : 0;
  const worker = new WorkerClient(context, log, { keyfile, testFastKdf, agent, agentAskBeforeServing: deps.agentAskBeforeServing, ...(testSlowSaveMs ? { testSlowSaveMs } : {}) });

  const command: RegisterCommand = (id, run) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
      try { return await run(...args); } catch (e) {
        log.error(`${id} failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`NoteSeal: ${(e as Error).message}`);
      }
    }));
  command(Commands.showWorkerStatus, async () => {
    const s = await worker.request(Method.workerStatus);
    void vscode.window.showInformationMessage(
      `NoteSeal worker ${s.version}: ${s.locked ? 'locked' : 'unlocked'}, pid ${s.pid}, up ${formatUptime(s.uptimeSeconds)}, Node ${s.node}`);
    return s;
  });
  command(Commands.showLog, () => log.channel.show(true));

  const start = async () => {
    try {
      await worker.start();
    } catch (e) {
      // e.g. a relative $NOTESEAL_KEYFILE, which the worker refuses (keys/location.ts): say so, do not fail silently.
      log.error(`the worker did not start: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`NoteSeal could not start its worker: ${(e as Error).message}`);
      throw e;
    }
  };
  return { log, worker, command, keyfile, start };
}

/** The keyfile setting, `~`-expanded; a relative path is refused (location.ts) with a clear error. */
function keyfileSetting(): string | undefined {
  const value = vscode.workspace.getConfiguration('noteseal').get<string>('keyfile')?.trim();
  if (!value) return undefined;
  try {
    return absoluteKeyfilePath(value, 'The noteseal.keyfile setting');
  } catch (e) {
    void vscode.window.showErrorMessage(`NoteSeal: ${(e as Error).message} NoteSeal did not start; fix the setting and reload the window.`);
    throw e;
  }
}

function formatUptime(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
