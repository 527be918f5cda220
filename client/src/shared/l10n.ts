// Localizable strings for modules that must stay free of a VS Code import (they are unit-tested in plain
// Node): `l10n.t` is `vscode.l10n.t` once the extension is active (setTranslator), and until then formats
// the English text itself ({0}, {1}… replaced in order). Modules that import VS Code use vscode.l10n.t.
type Arg = string | number | boolean;
let translate: (message: string, ...args: Arg[]) => string = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole));

export const l10n = {
  t: (message: string, ...args: Arg[]): string => translate(message, ...args),
};

export function setTranslator(t: (message: string, ...args: Arg[]) => string): void {
  translate = t;
}
