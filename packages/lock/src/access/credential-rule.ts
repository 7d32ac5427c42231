/**
 * Matter's Dual and Tri credential rules: a user whose rule needs several distinct credentials is
 * let in only when that many were presented within the multi-credential window.
 */
import { lookupKey, type Credential } from "../credentials/credential.js";
import { CREDENTIALS_REQUIRED, type User } from "../users/user.js";

export type CollectOutcome =
  | { readonly complete: true; readonly required: number }
  | { readonly complete: false; readonly presented: number; readonly required: number };

export class CredentialCollector {
  readonly #pending = new Map<number, { keys: Set<string>; startedMono: number }>();

  /** Adds a granted credential of `user`; complete once the rule's count is reached. */
  collect(user: User, credential: Credential, nowMono: number, windowMs: number): CollectOutcome {
    const required = CREDENTIALS_REQUIRED[user.credentialRule];
    if (required <= 1) return { complete: true, required };
    let pending = this.#pending.get(user.index);
    if (pending === undefined || nowMono - pending.startedMono > windowMs) {
      pending = { keys: new Set(), startedMono: nowMono };
      this.#pending.set(user.index, pending);
    }
    pending.keys.add(lookupKey(credential));
    if (pending.keys.size < required) return { complete: false, presented: pending.keys.size, required };
    this.#pending.delete(user.index);
    return { complete: true, required };
  }

  /** Forgets what a user has presented so far (user changed, credential removed). */
  forget(userIndex: number): void {
    this.#pending.delete(userIndex);
  }
}
