/**
 * The lock's credentials with their rules: PINs checked against the lock's PIN policy and kept
 * only as keyed hashes, card, fingerprint and phone-key values checked before storing, credential
 * indices 1…capacity per type, no credential index taken from another user, no value twice.
 * Presented values are matched by one lookup each (no scan).
 */
import { LatchkeyError, PIN_LENGTH_LIMITS, type CredentialIndex, type UserIndex } from "@latchkey/protocol";
import {
  checkCardKey,
  checkCardUid,
  checkPhoneKey,
  checkTemplateRef,
  type Credential,
  type CredentialType,
  type PhoneKeyAlgorithm,
} from "./credential.js";
import { CredentialStore } from "./credential-store.js";
import { pinHash, sameHash } from "./pin-hash.js";
import { checkPin, type PinPolicy } from "./pin-policy.js";

/** Public view of a credential: never the PIN hash or a card key. */
export interface CredentialInfo {
  readonly type: CredentialType;
  readonly index: CredentialIndex;
  readonly userIndex: UserIndex;
}

/** A stored credential and whether it replaced one at the same index. */
export interface CredentialPut {
  readonly credential: Credential;
  readonly existed: boolean;
}

export class CredentialBook {
  readonly #store: CredentialStore;
  readonly #pinSecret: Uint8Array;

  constructor(
    readonly capacityPerType: number,
    pinSecret: Uint8Array,
  ) {
    this.#store = new CredentialStore(capacityPerType);
    this.#pinSecret = pinSecret;
  }

  get size(): number {
    return this.#store.size;
  }
  all(): Credential[] {
    return this.#store.all();
  }
  infos(): CredentialInfo[] {
    return this.#store.all().map((c) => ({ type: c.type, index: c.index, userIndex: c.userIndex }));
  }
  countOfUser(userIndex: number): number {
    return this.#store.countOfUser(userIndex);
  }

  setPin(user: UserIndex, pin: string, policy: PinPolicy, credentialIndex?: number): CredentialPut {
    checkPin(pin, policy);
    const hash = pinHash(this.#pinSecret, pin);
    return this.#put(user, credentialIndex, "PIN", (index) => ({
      type: "PIN",
      index,
      userIndex: user,
      hash,
    }));
  }

  /** A card by UID; with `key`, a challenge-response card that must answer the lock's challenge. */
  setCard(user: UserIndex, uid: Uint8Array, key?: Uint8Array, credentialIndex?: number): CredentialPut {
    checkCardUid(uid);
    if (key !== undefined) checkCardKey(key);
    return this.#put(user, credentialIndex, "RFID", (index) =>
      key === undefined
        ? { type: "RFID", index, userIndex: user, uid: uid.slice() }
        : { type: "RFID", index, userIndex: user, uid: uid.slice(), key: key.slice() },
    );
  }

  setFingerprint(user: UserIndex, templateRef: number, credentialIndex?: number): CredentialPut {
    checkTemplateRef(templateRef);
    return this.#put(user, credentialIndex, "Fingerprint", (index) => ({
      type: "Fingerprint",
      index,
      userIndex: user,
      templateRef,
    }));
  }

  setPhoneKey(
    user: UserIndex,
    algorithm: PhoneKeyAlgorithm,
    publicKey: Uint8Array,
    credentialIndex?: number,
  ): CredentialPut {
    checkPhoneKey(algorithm, publicKey);
    return this.#put(user, credentialIndex, "PhoneKey", (index) => ({
      type: "PhoneKey",
      index,
      userIndex: user,
      algorithm,
      publicKey: publicKey.slice(),
    }));
  }

  /** Removes one credential (LOCK_CREDENTIAL_UNKNOWN when there is none) and returns it. */
  remove(type: CredentialType, index: number): Credential {
    const c = this.#store.require(type, index);
    this.#store.remove(type, index);
    return c;
  }

  removeUser(userIndex: UserIndex): void {
    this.#store.removeUser(userIndex);
  }

  /** The PIN credential a typed PIN matches: one lookup by keyed hash, then a constant-time compare. */
  matchPin(pin: string): Credential | undefined {
    // Longer than any PIN can be: unknown without hashing (bounded work per attempt).
    const usable = typeof pin === "string" && pin.length <= PIN_LENGTH_LIMITS.max;
    const hash = pinHash(this.#pinSecret, usable ? pin : "");
    const found = usable ? this.#store.find("PIN:" + Buffer.from(hash).toString("hex")) : undefined;
    return found?.type === "PIN" && sameHash(found.hash, hash) ? found : undefined;
  }

  findCard(uid: Uint8Array): Credential | undefined {
    return this.#store.find("RFID:" + Buffer.from(uid).toString("hex"));
  }

  findFingerprint(templateRef: number): Credential | undefined {
    return this.#store.find("Fingerprint:" + String(templateRef));
  }

  findPhoneKey(publicKey: Uint8Array): Credential | undefined {
    return this.#store.find("PhoneKey:" + Buffer.from(publicKey).toString("hex"));
  }

  /** Rebuilds from stored records through the same checks as the setters (a bad record throws). */
  restore(credentials: readonly Credential[], userExists: (userIndex: number) => boolean): void {
    for (const c of credentials) {
      if (!userExists(c.userIndex)) throw new Error("credential of a missing user");
      if (!Number.isSafeInteger(c.index) || c.index < 1 || c.index > this.capacityPerType)
        throw new Error("credential index out of range");
      if (c.type === "PIN" && c.hash.length !== 32) throw new Error("PIN hash length");
      if (c.type === "RFID") {
        checkCardUid(c.uid);
        if (c.key !== undefined) checkCardKey(c.key);
      }
      if (c.type === "Fingerprint") checkTemplateRef(c.templateRef);
      if (c.type === "PhoneKey") checkPhoneKey(c.algorithm, c.publicKey);
      this.#store.put(c);
    }
  }

  #put(
    user: UserIndex,
    credentialIndex: number | undefined,
    type: CredentialType,
    build: (index: CredentialIndex) => Credential,
  ): CredentialPut {
    let index: CredentialIndex;
    if (credentialIndex === undefined) index = this.#store.freeIndex(type);
    else {
      if (
        !Number.isInteger(credentialIndex) ||
        credentialIndex < 1 ||
        credentialIndex > this.capacityPerType
      ) {
        throw new LatchkeyError(
          "LOCK_CREDENTIAL_INVALID",
          `credential index must be 1–${this.capacityPerType}`,
          {
            field: "credentialIndex",
          },
        );
      }
      index = credentialIndex as CredentialIndex;
      const existing = this.#store.get(type, index);
      if (existing !== undefined && existing.userIndex !== user) {
        throw new LatchkeyError(
          "LOCK_CREDENTIAL_DUPLICATE",
          `${type} index ${index} belongs to another user`,
          {
            credentialType: type,
            credentialIndex: index,
          },
        );
      }
    }
    const credential = build(index);
    this.#store.assertNotDuplicate(credential);
    const existed = this.#store.get(type, index) !== undefined;
    this.#store.put(credential);
    return { credential, existed };
  }
}
