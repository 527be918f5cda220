// sops dotenv and INI files, as lines: every line is kept as it was but the values set, so an unchanged file
// prints back as it was read. dotenv holds the metadata as `sops_…` lines, INI as a `[sops]` section, both
// flattened (sops-metadata.ts).
import { flattenMetadata, unflattenMetadata } from './sops-metadata';
import type { SopsPlain } from './sops-cipher';
import type { SopsComment, SopsLeaf, SopsMap, SopsNode } from './sops-tree';
import { SopsParseError, type SopsDocument } from './sops-yaml';

const DOTENV_PREFIX = 'sops_';

interface Line { text: string; meta?: boolean }

function splitLines(text: string): { lines: Line[]; eol: string; finalEol: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const finalEol = text.endsWith('\n');
  const body = finalEol ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  return { lines: body === '' ? [] : body.split(/\r?\n/).map(t => ({ text: t })), eol, finalEol };
}

function commentLine(lines: Line[], i: number, prefix: string, body: string): SopsComment {
  return { kind: 'comment', text: body, set(t) { this.text = t; lines[i]!.text = prefix + t; } };
}

/**
 * A dotenv file as sops reads it (stores/dotenv): each non-empty line a `#` comment or KEY=value split at the
 * first '=', nothing trimmed or unquoted, `\\n` in a value a line break.
 */
export function dotenvDocument(text: string): SopsDocument {
  const lines: Line[] = text.split('\n').map(t => ({ text: t }));
  const flat = new Map<string, string>();
  const items: SopsMap['items'] = [];
  lines.forEach((line, i) => {
    const t = line.text;
    if (t === '') return;
    if (t.startsWith('#')) { items.push(commentLine(lines, i, '#', t.slice(1))); return; }
    const eq = t.indexOf('=');
    if (eq < 0) throw new SopsParseError(i + 1, 'not a KEY=value line');
    const key = t.slice(0, eq); const value = t.slice(eq + 1).replace(/\\n/g, '\n');
    if (key.startsWith(DOTENV_PREFIX)) { flat.set(key.slice(DOTENV_PREFIX.length), value); line.meta = true; return; }
    const leaf: SopsLeaf = { kind: 'leaf', value: { type: 'str', text: value }, set(p: SopsPlain) { this.value = p; lines[i]!.text = `${key}=${p.text.replace(/\n/g, '\\n')}`; } };
    items.push({ kind: 'item', key, value: leaf });
  });
  return {
    branches: [{ kind: 'map', items }],
    metadata: flat.size ? unflattenMetadata(flat) : null,
    print(meta) {
      const out = lines.filter(l => !l.meta).map(l => l.text);
      while (out.length && out[out.length - 1] === '') out.pop();
      if (meta) out.push(...flattenMetadata(meta).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${DOTENV_PREFIX}${k}=${v}`));
      return out.join('\n') + '\n';
    },
  };
}

/** An INI file: `[section]` headers, `key = value` lines (a `"""` value may span lines), `;`/`#` comments. */
export function iniDocument(text: string): SopsDocument {
  const { lines, eol, finalEol } = splitLines(text);
  const sections: { name: string; items: SopsMap['items']; meta: boolean }[] = [{ name: 'DEFAULT', items: [], meta: false }];
  let current = sections[0]!;
  const flat = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.text;
    if (t.trim() === '') continue;
    const header = /^\s*\[([^\]]*)\]\s*$/.exec(t);
    if (header) {
      const name = header[1]!.trim();
      // Comments above a header are the section's (go-ini), so they move to it (their key path is its).
      const moved: SopsMap['items'] = [];
      while (current.items.length && current.items[current.items.length - 1]!.kind === 'comment') moved.unshift(current.items.pop()!);
      current = { name, items: moved, meta: name === 'sops' };
      sections.push(current);
      lines[i]!.meta = current.meta;
      continue;
    }
    lines[i]!.meta = current.meta;
    const c = /^(\s*[;#]\s?)(.*)$/.exec(t);
    if (c) { current.items.push(commentLine(lines, i, c[1]!, c[2]!)); continue; }
    const m = /^\s*([^=:]+?)\s*[=:]\s?(.*)$/.exec(t);
    if (!m) throw new SopsParseError(i + 1, 'not a key = value line');
    const key = m[1]!;
    let rawValue = m[2]!.trim(); const first = i;
    if (rawValue.startsWith('"""')) {
      let body = rawValue.slice(3);
      while (!body.endsWith('"""')) {
        i++;
        if (i >= lines.length) throw new SopsParseError(first + 1, `the value of ${key} has no closing """`);
        lines[i]!.meta = current.meta;
        body += '\n' + lines[i]!.text;
      }
      rawValue = body.slice(0, -3);
    } else if (rawValue.length >= 2 && /^(["`]).*\1$/.test(rawValue)) rawValue = rawValue.slice(1, -1);
    const value = current.meta ? rawValue.replace(/\\n/g, '\n') : rawValue;
    if (current.meta) { flat.set(key, value); continue; }
    const keyPart = t.slice(0, t.length - m[2]!.length);
    const span = i - first;
    const leaf: SopsLeaf = {
      kind: 'leaf', value: { type: 'str', text: value },
      set(p: SopsPlain) {
        this.value = p;
        lines[first]!.text = keyPart + (p.text.includes('\n') ? `"""${p.text}"""` : p.text);
        for (let k = 1; k <= span; k++) lines[first + k]!.meta = true; // the old continuation lines go
      },
    };
    current.items.push({ kind: 'item', key, value: leaf });
  }
  const data = sections.filter(s => !s.meta);
  return {
    branches: [{ kind: 'map', items: data.map(s => ({ kind: 'item' as const, key: s.name, value: { kind: 'map' as const, items: s.items } as SopsNode })) }],
    metadata: flat.size ? unflattenMetadata(flat) : null,
    print(meta) {
      const out = lines.filter(l => !l.meta).map(l => l.text);
      while (out.length && out[out.length - 1]!.trim() === '') out.pop();
      if (meta) {
        const entries = flattenMetadata(meta);
        const width = Math.max(...entries.map(([k]) => k.length));
        out.push('', '[sops]', ...entries.map(([k, v]) => `${k.padEnd(width)} = ${v}`));
      }
      return out.join(eol) + (finalEol || meta ? eol : '');
    },
  };
}
