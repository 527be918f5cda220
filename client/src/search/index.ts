// `NoteSeal: Search Encrypted Notes`: the view, its command and what a lock does to it. The search runs in the
// worker (server/src/search/); this folder may use shared/ and vault/ and shows only what the worker returns.
import type * as vscode from 'vscode';
import type { Core } from '../shared/index';
import type { VaultController } from '../vault/vault';
import { registerSearch as registerSearchView, type SearchRunner } from './searchView';

/** Returns the runner (the test API searches through it). */
export function registerSearch(context: vscode.ExtensionContext, deps: Core & { vault: VaultController }): SearchRunner {
  return registerSearchView(context, deps.worker, deps.vault, deps.log);
}
