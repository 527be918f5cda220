// AI chat gets a decrypted note only when the user hands it over (issue 22 §1). VS Code attaches the
// active editor to a chat request by itself ("implicit context", `chat.implicitContext.enabled`, read in
// src/vs/workbench/contrib/chat/browser/…/chatImplicitContext.ts); NoteSeal's contributed default turns
// that off (package.json, configurationDefaults). "NoteSeal: Allow AI Chat for This Note" is the one way
// NoteSeal hands a note to chat: it says what will leave the machine, asks once per note and session, and
// attaches the note to the chat input (`workbench.action.chat.open` with `attachFiles`). What NoteSeal
// cannot stop (another extension reading open documents, a user attaching a note through VS Code's own
// "Add Context") is said in the README and docs/ARCHITECTURE.md.
import * as vscode from 'vscode';
import { Commands } from '../shared/commands';
import { NOTESEAL_SCHEME } from '../shared/uris';

export function registerAiChatConsent(): vscode.Disposable {
  /** Notes the user allowed in this session (forgotten when the window closes). */
  const allowed = new Set<string>();
  return vscode.commands.registerCommand(Commands.allowAiChatForNote, async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (uri?.scheme !== NOTESEAL_SCHEME) {
      void vscode.window.showInformationMessage('Open a decrypted note first, then run "NoteSeal: Allow AI Chat for This Note" from its editor.');
      return false;
    }
    const name = uri.path.split('/').pop() ?? uri.path;
    if (!allowed.has(uri.toString())) {
      const choice = await vscode.window.showWarningMessage(`Send the decrypted text of ${name} to AI chat?`, {
        modal: true,
        detail: 'It will be attached to your chat request and sent, unencrypted, to the language model service your chat uses (often a cloud service), and the chat extension may keep it in its history. NoteSeal cannot take it back. You are asked once per note until VS Code closes.',
      }, 'Allow and Attach');
      if (choice !== 'Allow and Attach') return false;
      allowed.add(uri.toString());
    }
    try {
      await vscode.commands.executeCommand('workbench.action.chat.open', { attachFiles: [uri], isPartialQuery: true });
      return true;
    } catch (e) {
      void vscode.window.showWarningMessage(`No AI chat could take the note: ${(e as Error).message}`);
      return false;
    }
  });
}
