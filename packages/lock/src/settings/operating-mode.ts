/** Matter OperatingModeEnum (the modes Latchkey implements). */
export const OperatingMode = {
  Normal: "Normal",
  Vacation: "Vacation",
  Privacy: "Privacy",
  NoRemoteLockUnlock: "NoRemoteLockUnlock",
  Passage: "Passage",
} as const;
export type OperatingMode = (typeof OperatingMode)[keyof typeof OperatingMode];
export const OPERATING_MODES: readonly OperatingMode[] = Object.values(OperatingMode);
