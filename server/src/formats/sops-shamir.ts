// Shamir's secret sharing as sops uses it for key groups (sops's shamir package, written by HashiCorp for Vault):
// each byte of the data key is the constant term of its own random polynomial over GF(2^8) (the AES field,
// x^8 + x^4 + x^3 + x + 1), of degree threshold − 1. A share is the polynomial values at one point x ≠ 0 for
// every byte, followed by x itself: {y1, …, yN, x}, one byte longer than the key. Combining evaluates the
// Lagrange interpolation at x = 0, byte by byte. The field arithmetic here is bitwise, with no table look-ups
// indexed by secret bytes and no branch on them.
import { NoteSealError } from '../crypto/errors';

/** a·b in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (Russian-peasant multiplication, masks instead of branches). */
export function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    product ^= a & -(b & 1);
    const carry = -((a >> 7) & 1);
    a = ((a << 1) ^ (0x1b & carry)) & 0xff;
    b >>= 1;
  }
  return product;
}

/** 1/a in GF(2^8) as a^254 (a ≠ 0: shares' x coordinates are checked non-zero and distinct). */
function gfInverse(a: number): number {
  let result = 1;
  let power = a;
  for (let e = 254; e > 0; e >>= 1) {
    if (e & 1) result = gfMul(result, power);
    power = gfMul(power, power);
  }
  return result;
}

export class SopsShamirError extends NoteSealError {
  constructor(message: string) { super('CORRUPTED', message); }
}

/**
 * The secret the shares were split from (sops's shamir.Combine): at least two shares of the same length (≥ 2
 * bytes), distinct non-zero x coordinates. Fewer shares than the split's threshold give a wrong secret, not an
 * error (that is the scheme): the caller checks the count, and the file's MAC catches any wrong key.
 */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new SopsShamirError('fewer than two Shamir shares cannot give the data key');
  const length = shares[0]!.length;
  if (length < 2) throw new SopsShamirError('a Shamir share is shorter than two bytes');
  if (shares.some(s => s.length !== length)) throw new SopsShamirError('the Shamir shares of this file differ in length');
  const xs = shares.map(s => s[length - 1]!);
  if (xs.some(x => x === 0) || new Set(xs).size !== xs.length) throw new SopsShamirError('two Shamir shares of this file are the same point (or one is at x = 0)');
  // The Lagrange basis at 0 depends only on the x coordinates (public): basis_i = Π_{j≠i} x_j / (x_i + x_j).
  const basis = xs.map((xi, i) => xs.reduce((acc, xj, j) => (i === j ? acc : gfMul(acc, gfMul(xj, gfInverse(xi ^ xj)))), 1));
  const secret = new Uint8Array(length - 1);
  for (let byte = 0; byte < secret.length; byte++) {
    let value = 0;
    for (let i = 0; i < shares.length; i++) value ^= gfMul(shares[i]![byte]!, basis[i]!);
    secret[byte] = value;
  }
  return secret;
}
