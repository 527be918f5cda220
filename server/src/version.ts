// Replaced at build time by esbuild's `define` from package.json; the fallback serves plain tsc and tests.
declare const __NOTESEAL_VERSION__: string | undefined;
export const VERSION: string = typeof __NOTESEAL_VERSION__ === 'string' ? __NOTESEAL_VERSION__ : '0.0.0-dev';
