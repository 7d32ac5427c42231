/** A simulated card: a UID, and for challenge-response cards the key it answers challenges with. */
import { cardResponse } from "../credentials/card-challenge.js";
import type { CardAnswer } from "../hardware/hal.js";

export class VirtualCard {
  constructor(
    readonly uid: Uint8Array,
    private readonly key?: Uint8Array,
  ) {}

  /** What the card says to the reader's challenge (undefined for a plain UID card). */
  get answer(): CardAnswer | undefined {
    const key = this.key;
    if (key === undefined) return undefined;
    return (challenge) => cardResponse(key, this.uid, challenge);
  }
}
