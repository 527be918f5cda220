// The leak defence: hot-exit backups of notes destroyed, `.enc` files reached through VS Code's own `file:`
// editors kept sealed, Local History copies purged. May use shared/ and vault/ only (the editor calls into it, never back).
import type * as vscode from 'vscode';
import type { Core } from '../shared/index';
import { registerAiChatConsent } from './aiChat';
import { EncGuard } from './encGuard';
import { LeakGuard } from './leakGuard';

export interface LeakDefence {
  /** Hot-exit backups: swept, and dirty notes saved soon so VS Code has nothing to back up. */
  leakGuard: LeakGuard;
  /** `.enc` files in `file:` editors and the Explorer: plaintext in them is sealed or refused. */
  guard: EncGuard;
}

export function registerLeakDefence(context: vscode.ExtensionContext, deps: Pick<Core, 'log'>): LeakDefence {
  const guard = new EncGuard(context, deps.log);
  const leakGuard = new LeakGuard(context, deps.log);
  context.subscriptions.push(leakGuard, guard, registerAiChatConsent());
  return { leakGuard, guard };
}
