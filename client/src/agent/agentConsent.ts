// `noteseal.agent.askBeforeServing`: the worker asks here before it hands a file key to a command-line
// client ("Allow "git" (pid 4242) to decrypt config/.env.enc?"). The worker identifies the program through
// the kernel (server/src/agent/peer.ts) and enforces the answer; this module only asks and tells the
// worker when the setting changes. A dismissed question is a denial (the worker also times it out).
import * as vscode from 'vscode';
import { Method, type AgentConsentAnswer, type AgentConsentQuestion } from '../../../server/src/protocol';
import { consentAnswer, consentText } from './agentConsentText';
import { isBoolean, userValue } from '../shared/settingRules';
import type { WorkerClient } from '../shared/workerClient';

const SETTING = 'agent.askBeforeServing';

/** The user's own value only: a workspace must not switch the question off (the manifest scope is machine too). */
export function askBeforeServing(): boolean {
  return userValue(vscode.workspace.getConfiguration('noteseal').inspect<boolean>(SETTING), false, isBoolean);
}

export class AgentConsent implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  /** Replaced by the integration tests, which cannot click a modal. */
  ask = async (q: AgentConsentQuestion): Promise<AgentConsentAnswer> => {
    const { message, detail, choices } = consentText(q, q.file ? vscode.workspace.asRelativePath(q.file) : 'a file');
    return consentAnswer(q, await vscode.window.showWarningMessage(message, { modal: true, detail }, ...choices));
  };

  constructor(private readonly worker: WorkerClient) {
    this.disposables.push(
      worker.onRequest(Method.agentConsent, async q => ({ answer: await this.ask(q) })),
      vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration(`noteseal.${SETTING}`)) void this.sendSetting(); }),
      // A restarted worker starts from the options given at launch: tell it the current value.
      worker.onDidRestart(() => void this.sendSetting()),
    );
  }

  async sendSetting(): Promise<void> {
    try { await this.worker.request(Method.agentConfigure, { askBeforeServing: askBeforeServing() }); } catch { /* worker gone: it restarts */ }
  }

  dispose(): void { for (const d of this.disposables) d.dispose(); }
}
