// Whether a file's first bytes are an age file's (binary, or armored: c2sp.org/age). One test for the age
// format's sniff (formats/age-format.ts) and for VS Code's guard of raw saves (client/src/leak/encGuard.ts).
import { looksArmored } from './armor';
import { VERSION_LINE } from './header';

const BINARY_START = Buffer.from(VERSION_LINE + '\n', 'latin1');
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
/** How many first bytes the test needs at most (armor may follow up to 1 KiB of whitespace). */
export const AGE_SNIFF_BYTES = 1024 + ARMOR_BEGIN.length;

export function looksLikeAgeFile(head: Uint8Array): boolean {
  return (head.length >= BINARY_START.length && BINARY_START.equals(head.subarray(0, BINARY_START.length)))
    || (looksArmored(head) && Buffer.from(head).includes(ARMOR_BEGIN));
}
