import type { ErrorDefinition } from "./error.js";

/** Authority keys, authority sets, authority signatures, delegations, door relabels (prefix `AUTHORITY_`). */
export const AUTHORITY_ERRORS = {
  AUTHORITY_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "An authority key, authority set, authority signature, authorised record, delegation or door relabel does not decode (wrong tag, version, lengths, order or values).",
  },
  AUTHORITY_INVALID_FIELDS: {
    status: 400,
    blame: "caller",
    description:
      "An authority record to be encoded has invalid fields (no keys, threshold above the key count, unsorted doors, unknown scope bits…).",
  },
  AUTHORITY_COSE_KEY_UNSUPPORTED: {
    status: 400,
    blame: "input",
    description:
      "A passkey's COSE public key is not an ES256 (P-256) EC2 key in the form authenticators produce, so it cannot be an authority key.",
  },
} as const satisfies Record<string, ErrorDefinition>;
