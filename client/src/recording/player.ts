// The player for encrypted recordings (`*.wav.enc`): a webview from media/ that asks for decrypted PCM
// ranges as it plays and seeks. The audio goes worker → extension host → webview memory, and nowhere else:
// nothing is written to disk.
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import { NOTESEAL_SCHEME } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';

type FromWebview = { type: 'ready' } | { type: 'read'; requestId: number; start: number; end: number };

export interface TimedLine { start: number; text: string }

/**
 * The lines of the "Transcript" section made from `recordingName` (its byline names it) in a meeting note:
 * `- **m:ss** text` (or `h:mm:ss`), as transcriptSection writes them. Other sections and other recordings'
 * transcripts are left out.
 */
export function transcriptLines(note: string, recordingName: string): TimedLine[] {
  const lines = note.split(/\r?\n/);
  const out: TimedLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trimEnd() !== '## Transcript') continue;
    const byline = lines.slice(i + 1).find(l => l.trim()) ?? '';
    if (!byline.startsWith('_Transcribed on this machine by ') || !byline.trimEnd().endsWith(` from ${recordingName}._`)) continue;
    for (let j = i + 1; j < lines.length && !/^#{1,2} /.test(lines[j]!); j++) {
      const m = /^- \*\*(?:(\d+):)?(\d+):(\d\d)\*\* (.*)$/.exec(lines[j]!);
      if (m) out.push({ start: Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]), text: m[4]! });
    }
  }
  return out;
}

/** The transcript of the recording from its meeting note (`name.md.enc`, or `name (2).md.enc`… as Stop Recording names it). */
async function transcriptOf(uri: vscode.Uri): Promise<TimedLine[]> {
  const recordingName = uri.path.split('/').pop()!;
  const base = uri.path.replace(/\.wav\.enc$/i, '');
  for (let n = 1; n <= 9; n++) {
    const notePath = `${n === 1 ? base : `${base} (${n})`}.md`;
    const bytes = await vscode.workspace.fs.readFile(uri.with({ scheme: NOTESEAL_SCHEME, path: notePath })).then(b => b, () => null);
    if (!bytes) continue;
    const lines = transcriptLines(Buffer.from(bytes).toString('utf8'), recordingName);
    bytes.fill(0);
    if (lines.length) return lines;
  }
  return [];
}

export async function showPlayer(panel: vscode.WebviewPanel, uri: vscode.Uri, extensionUri: vscode.Uri, worker: WorkerClient, vault: VaultController): Promise<void> {
  const media = vscode.Uri.joinPath(extensionUri, 'media');
  panel.webview.options = { enableScripts: true, localResourceRoots: [media] };
  const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'player.js'));
  const style = panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'player.css'));
  const name = uri.path.split('/').pop()!.replace(/\.wav\.enc$/, '');
  const csp = `default-src 'none'; script-src ${panel.webview.cspSource}; style-src ${panel.webview.cspSource}; media-src 'none';`;
  panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${style}"></head><body>
<h2 id="title"></h2><p class="sub">Encrypted recording: played from memory, never written to disk.</p>
<div class="controls"><button id="play" disabled>Play</button><input id="seek" type="range" min="0" max="1000" value="0" disabled>
<span id="time">–:–– / –:––</span></div><p id="status">Decrypting…</p>
<ol id="transcript"></ol>
<script src="${script}"></script></body></html>`;
  const post = (m: unknown) => void panel.webview.postMessage(m);
  // Locked means unseen: the transcript shown in the player goes with the keys.
  const onLock = vault.onDidChange(s => { if (s.locked) post({ type: 'transcript', lines: [] }); });
  panel.onDidDispose(() => onLock.dispose());
  panel.webview.onDidReceiveMessage(async (m: FromWebview) => {
    try {
      if (m.type === 'ready') {
        if (!(await vault.ensureUnlocked('Playing a recording needs the key.'))) { post({ type: 'error', message: 'NoteSeal is locked.' }); return; }
        const facts = await worker.request(Method.recordingDescribe, { path: uri.fsPath });
        post({ type: 'info', name, ...facts });
        // The transcript, if the meeting note has one: each time is a button that plays from there.
        post({ type: 'transcript', lines: await transcriptOf(uri) });
      } else if (m.type === 'read') {
        const { data } = await worker.request(Method.recordingRead, { path: uri.fsPath, start: m.start, end: m.end });
        // A copy with its own ArrayBuffer: webviews transfer ArrayBuffers as bytes (a view into a larger
        // Node buffer would drag the whole pool along, or arrive mangled).
        const bytes = new Uint8Array(data.byteLength);
        bytes.set(data);
        post({ type: 'data', requestId: m.requestId, start: m.start, data: bytes.buffer });
      }
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
    }
  });
}
