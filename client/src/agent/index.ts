// The agent's and the terminal's side: `noteseal` on this window's terminals' PATH with this window's agent socket,
// Install Command-Line Tool, and the agent's consent question. May use shared/ only; the agent itself is the worker's.
import type * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import type { Core } from '../shared/index';
import { AgentConsent } from './agentConsent';

export { askBeforeServing } from './agentConsent';
import { TerminalIntegration } from './terminal';

export interface AgentFeature {
  consent: AgentConsent;
  terminal: TerminalIntegration;
  /** After the worker started: terminals get its agent socket, again after each restart. */
  ready(): Promise<void>;
}

export function registerAgent(context: vscode.ExtensionContext, deps: Core): AgentFeature {
  const { worker, log, command } = deps;
  const consent = new AgentConsent(worker);
  context.subscriptions.push(consent);
  const terminal = new TerminalIntegration(context, log);
  terminal.activate(deps.keyfile);
  command(Commands.installCommandLineTool, (args?: { folder?: string; overwrite?: boolean }) => terminal.install(args));
  const showAgent = async () => terminal.setAgentSocket((await worker.request(Method.workerStatus)).agentSocket);
  const ready = async () => {
    context.subscriptions.push(worker.onDidRestart(() => void showAgent()));
    await showAgent();
  };
  return { consent, terminal, ready };
}
