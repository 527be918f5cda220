// hash-wasm's Argon2-only build (kdf.ts loads it instead of the whole package): the same argon2id.
declare module 'hash-wasm/dist/argon2.umd.min.js' {
  export { argon2id } from 'hash-wasm';
}
