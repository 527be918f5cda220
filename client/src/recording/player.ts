// The player for encrypted recordings (`*.wav.enc`): a webview from media/ that asks for decrypted PCM
// ranges as it plays and seeks. The audio goes worker → extension host → webview memory, and nowhere else:
// nothing is written to disk.
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import type { VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';

type FromWebview = { type: 'ready' } | { type: 'read'; requestId: number; start: number; end: number };

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
<script src="${script}"></script></body></html>`;
  const post = (m: unknown) => void panel.webview.postMessage(m);
  panel.webview.onDidReceiveMessage(async (m: FromWebview) => {
    try {
      if (m.type === 'ready') {
        if (!(await vault.ensureUnlocked('Playing a recording needs the key.'))) { post({ type: 'error', message: 'NoteSeal is locked.' }); return; }
        const facts = await worker.request(Method.recordingDescribe, { path: uri.fsPath });
        post({ type: 'info', name, ...facts });
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
