/**
 * Challenge-response cards: the reader sends a fresh random challenge; the card answers with
 * HMAC-SHA256(cardKey, domain ‖ uid ‖ challenge). A cloned UID without the key cannot answer.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const CARD_RESPONSE_DOMAIN = "latchkey/card-response/v1";

export function cardResponse(key: Uint8Array, uid: Uint8Array, challenge: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHmac("sha256", key).update(CARD_RESPONSE_DOMAIN).update(uid).update(challenge).digest(),
  );
}

export function checkCardResponse(
  key: Uint8Array,
  uid: Uint8Array,
  challenge: Uint8Array,
  response: Uint8Array,
): boolean {
  const expected = cardResponse(key, uid, challenge);
  return response.length === expected.length && timingSafeEqual(response, expected);
}
