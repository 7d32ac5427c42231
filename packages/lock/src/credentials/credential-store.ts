/**
 * All credentials of one lock, indexed three ways so no access decision scans the whole set:
 * by (type, credential index), by lookup value (keyed PIN hash, card UID, template, public key),
 * and by user.
 */
import { LatchkeyError, type CredentialIndex, type UserIndex } from "@latchkey/protocol";
import { lookupKey, type Credential, type CredentialType } from "./credential.js";

export class CredentialStore {
  private readonly byIndex = new Map<CredentialType, Map<number, Credential>>();
  private readonly byLookup = new Map<string, Credential>();
  private readonly byUser = new Map<number, Set<Credential>>();

  constructor(private readonly capacityPerType: number) {}

  get size(): number {
    return this.byLookup.size;
  }

  get(type: CredentialType, index: number): Credential | undefined {
    return this.byIndex.get(type)?.get(index);
  }

  require(type: CredentialType, index: number): Credential {
    const c = this.get(type, index);
    if (c === undefined) {
      throw new LatchkeyError("LOCK_CREDENTIAL_UNKNOWN", `no ${type} credential at index ${index}`, {
        credentialType: type,
        credentialIndex: index,
      });
    }
    return c;
  }

  find(key: string): Credential | undefined {
    return this.byLookup.get(key);
  }

  ofUser(userIndex: number): readonly Credential[] {
    return [...(this.byUser.get(userIndex) ?? [])];
  }

  countOfUser(userIndex: number): number {
    return this.byUser.get(userIndex)?.size ?? 0;
  }

  all(): Credential[] {
    return [...this.byLookup.values()];
  }

  /** First free credential index of a type (1-based). Throws LOCK_CAPACITY when full. */
  freeIndex(type: CredentialType): CredentialIndex {
    const m = this.byIndex.get(type);
    for (let i = 1; i <= this.capacityPerType; i++) if (m?.has(i) !== true) return i as CredentialIndex;
    throw new LatchkeyError("LOCK_CAPACITY", `no free ${type} credential slot`, {
      credentialType: type,
      capacity: this.capacityPerType,
    });
  }

  /** Refuses a duplicate value (LOCK_CREDENTIAL_DUPLICATE) before anything changes. */
  assertNotDuplicate(candidate: Credential): void {
    const existing = this.byLookup.get(lookupKey(candidate));
    if (existing !== undefined && !(existing.type === candidate.type && existing.index === candidate.index)) {
      throw new LatchkeyError(
        "LOCK_CREDENTIAL_DUPLICATE",
        `this ${candidate.type} is already set on the lock`,
        {
          credentialType: candidate.type,
        },
      );
    }
  }

  put(c: Credential): void {
    this.assertNotDuplicate(c);
    const old = this.get(c.type, c.index);
    if (old !== undefined) this.remove(old.type, old.index);
    let m = this.byIndex.get(c.type);
    if (m === undefined) this.byIndex.set(c.type, (m = new Map<number, Credential>()));
    m.set(c.index, c);
    this.byLookup.set(lookupKey(c), c);
    let u = this.byUser.get(c.userIndex);
    if (u === undefined) this.byUser.set(c.userIndex, (u = new Set()));
    u.add(c);
  }

  remove(type: CredentialType, index: number): Credential | undefined {
    const c = this.get(type, index);
    if (c === undefined) return undefined;
    this.byIndex.get(type)?.delete(index);
    this.byLookup.delete(lookupKey(c));
    const u = this.byUser.get(c.userIndex);
    u?.delete(c);
    if (u?.size === 0) this.byUser.delete(c.userIndex);
    return c;
  }

  removeUser(userIndex: UserIndex): readonly Credential[] {
    const list = this.ofUser(userIndex);
    for (const c of list) this.remove(c.type, c.index);
    return list;
  }
}
