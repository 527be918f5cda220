// Extension entry point: wires the output channel, the worker client, the status bar and the commands.
// Everything heavy happens in the worker; this side is VS Code UI and forwarding.
import * as vscode from 'vscode';
import { Method, type WorkerStatus } from '../../server/src/protocol';
import { Commands } from './commands';
import { Logger } from './logger';
import { LockStatusItem } from './statusBar';
import { WorkerClient } from './workerClient';

/** What activate() returns: used by the integration tests, and by nothing that ships content. */
export interface NoteSealApi {
  workerStatus(): Promise<WorkerStatus>;
  onDidRestartWorker: vscode.Event<void>;
}

let worker: WorkerClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<NoteSealApi> {
  const log = new Logger();
  context.subscriptions.push(log);
  log.info(`activating NoteSeal ${context.extension.packageJSON.version} (VS Code ${vscode.version}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);

  const status = new LockStatusItem();
  context.subscriptions.push(status);

  worker = new WorkerClient(context, log);
  const refreshStatus = async () => {
    const s = await worker!.request(Method.workerStatus);
    status.show({ locked: s.locked, workerRunning: true });
  };
  context.subscriptions.push(worker.onDidRestart(() => void refreshStatus().catch(e => log.error(`status refresh failed: ${errorText(e)}`))));

  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.showWorkerStatus, async () => {
      const s = await worker!.request(Method.workerStatus);
      void vscode.window.showInformationMessage(
        `NoteSeal worker ${s.version}: ${s.locked ? 'locked' : 'unlocked'}, pid ${s.pid}, up ${formatUptime(s.uptimeSeconds)}, Node ${s.node}`);
      return s;
    }),
    vscode.commands.registerCommand(Commands.restartWorker, async () => {
      await worker!.restart();
      await refreshStatus();
      void vscode.window.showInformationMessage('NoteSeal worker restarted.');
    }),
    vscode.commands.registerCommand(Commands.showLog, () => log.channel.show(true)),
  );

  await worker.start();
  await refreshStatus();
  log.info('NoteSeal is ready');

  return {
    workerStatus: () => worker!.request(Method.workerStatus),
    onDidRestartWorker: worker.onDidRestart,
  };
}

export async function deactivate(): Promise<void> {
  await worker?.dispose();
  worker = undefined;
}

function formatUptime(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
