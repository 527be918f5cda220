// The first start on a machine without a keyfile: one notification, one action (the Get Started walkthrough,
// whose first step is Set Up Encryption). Asked once per machine: the status bar's "NoteSeal: Set Up" stays.
import * as vscode from 'vscode';
import type { VaultState } from '../../../server/src/protocol';

export const WALKTHROUGH_ID = 'noteseal.getStarted';
const SHOWN_KEY = 'noteseal.firstRunShown';

/** The walkthrough, opened at `step` (a step id of package.json's walkthrough) when given. */
export function openWalkthrough(context: vscode.ExtensionContext, step?: string): Thenable<unknown> {
  const walkthrough = `${context.extension.id}#${WALKTHROUGH_ID}`;
  return vscode.commands.executeCommand('workbench.action.openWalkthrough', step ? { category: walkthrough, step: `${walkthrough}#${step}` } : walkthrough, false);
}

export async function offerFirstRun(context: vscode.ExtensionContext, state: VaultState): Promise<void> {
  if (state.initialized || context.globalState.get<boolean>(SHOWN_KEY)) return;
  await context.globalState.update(SHOWN_KEY, true);
  const getStarted = vscode.l10n.t('Get Started');
  const pick = await vscode.window.showInformationMessage(
    vscode.l10n.t('NoteSeal keeps notes encrypted in your editor. There is no key on this machine yet: the walkthrough sets one up in a minute.'), getStarted);
  if (pick === getStarted) await openWalkthrough(context, 'setup');
}
