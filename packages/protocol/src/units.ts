/**
 * Branded identifiers and explicit units, so a lock id cannot be passed where a user index is
 * expected and seconds cannot be mixed with milliseconds. Brands cost nothing at run time.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A lock's identity: lower-case hex of the first 16 bytes of SHA-256 of its signing public key. */
export type LockId = Brand<string, "LockId">;
/** Matter user index on a lock (1-based). */
export type UserIndex = Brand<number, "UserIndex">;
/** Matter credential index on a lock, per credential type (1-based). */
export type CredentialIndex = Brand<number, "CredentialIndex">;

export type Seconds = Brand<number, "Seconds">;
export type Milliseconds = Brand<number, "Milliseconds">;
export type Minutes = Brand<number, "Minutes">;
/** Milliseconds since the Unix epoch, UTC. */
export type EpochMs = Brand<number, "EpochMs">;

export const seconds = (n: number): Seconds => n as Seconds;
export const milliseconds = (n: number): Milliseconds => n as Milliseconds;
export const minutes = (n: number): Minutes => n as Minutes;
export const epochMs = (n: number): EpochMs => n as EpochMs;
