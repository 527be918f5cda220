// The @noble curve and KEM implementations, each loaded on first use. Setting them up at module load
// (ML-KEM's tables; noble's curves build their point tables and probe WebCrypto, which loads it; secp256k1
// and P-256 precompute) took over a third of the start-up of every CLI command in a profile of a 1 KiB
// `decrypt` through the agent (docs/ARCHITECTURE.md), though only age's X-Wing recipients, NoteSeal's
// X-Wing stanzas and dotenvx files use them. esbuild turns each require() below into a call of the
// module's initialiser, so nothing of theirs runs until a caller needs it; a static import anywhere
// would bring that cost back to every command.
import type { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import type { secp256k1 as Secp256k1 } from '@noble/curves/secp256k1.js';

let xwing: typeof ml_kem768_x25519 | undefined;
let k256: typeof Secp256k1 | undefined;

/** X-Wing (ML-KEM-768 + X25519), as age's `age1pq…` recipients and NoteSeal's type-5 stanzas use it. */
export function xwingKem(): typeof ml_kem768_x25519 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  return xwing ??= (require('@noble/post-quantum/hybrid.js') as typeof import('@noble/post-quantum/hybrid.js')).ml_kem768_x25519;
}

/** secp256k1, for dotenvx's keys and its ECIES. */
export function secp256k1(): typeof Secp256k1 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  return k256 ??= (require('@noble/curves/secp256k1.js') as typeof import('@noble/curves/secp256k1.js')).secp256k1;
}
