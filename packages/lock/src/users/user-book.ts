/**
 * Every user slot of one lock and what each has used (granted uses, first use), with the slot
 * rules: indices 1…capacity, one user per index, a first free index for callers that name none.
 */
import { LatchkeyError, type UserIndex, UserType } from "@latchkey/protocol";
import { buildUser, checkUserIndex, type User, type UserInput } from "./user.js";

export interface UserUsage {
  /** Granted uses so far (for maxUses). */
  readonly uses: number;
  /** Wall time of the first granted use (ExpiringUser), when known. */
  readonly firstUseMs?: number;
}

export interface UserUsageEntry {
  readonly userIndex: number;
  readonly usage: UserUsage;
}

export class UserBook {
  readonly #users = new Map<number, User>();
  readonly #usage = new Map<number, UserUsage>();

  constructor(readonly capacity: number) {}

  /** The users by index (what an access decision reads). */
  get byIndex(): ReadonlyMap<number, User> {
    return this.#users;
  }
  /** Usage by user index (what an access decision reads). */
  get usageByIndex(): ReadonlyMap<number, UserUsage> {
    return this.#usage;
  }
  get size(): number {
    return this.#users.size;
  }
  get(index: number): User | undefined {
    return this.#users.get(index);
  }
  has(index: number): boolean {
    return this.#users.has(index);
  }
  all(): User[] {
    return [...this.#users.values()].sort((a, b) => a.index - b.index);
  }
  indices(): UserIndex[] {
    return [...this.#users.keys()] as UserIndex[];
  }
  usage(index: number): UserUsage | undefined {
    return this.#usage.get(index);
  }
  usageEntries(): UserUsageEntry[] {
    return [...this.#usage].map(([userIndex, usage]) => ({ userIndex, usage }));
  }

  require(index: number): User {
    const user = Number.isInteger(index) ? this.#users.get(index) : undefined;
    if (user === undefined) {
      throw new LatchkeyError("LOCK_USER_UNKNOWN", `no user at index ${String(index)}`, {
        userIndex: String(index),
      });
    }
    return user;
  }

  /** Adds a user at `index` (or the first free index); throws LOCK_USER_EXISTS or LOCK_CAPACITY. */
  add(input: UserInput, index?: number): User {
    const idx = index === undefined ? this.#freeIndex() : checkUserIndex(index, this.capacity);
    if (this.#users.has(idx)) {
      throw new LatchkeyError("LOCK_USER_EXISTS", `user index ${idx} is occupied`, { userIndex: idx });
    }
    const user = buildUser(idx, input);
    this.#users.set(idx, user);
    return user;
  }

  /** Applies `input` over an existing user; returns the user before and after. */
  modify(index: number, input: UserInput): { readonly before: User; readonly after: User } {
    const before = this.require(index);
    const after = buildUser(before.index, input, before);
    this.#users.set(before.index, after);
    return { before, after };
  }

  /** Forgets the user and its usage (credentials and schedules are their books' to drop). */
  delete(index: number): void {
    this.#users.delete(index);
    this.#usage.delete(index);
  }

  resetUsage(index: number): void {
    this.#usage.delete(index);
  }

  /** Counts a granted use; an ExpiringUser's first use (with a known clock) starts its timeout. */
  recordUse(user: User, nowMs: number | null): void {
    const prev = this.#usage.get(user.index);
    const firstUseMs =
      prev?.firstUseMs ?? (user.type === UserType.ExpiringUser && nowMs !== null ? nowMs : undefined);
    this.#usage.set(user.index, {
      uses: (prev?.uses ?? 0) + 1,
      ...(firstUseMs !== undefined ? { firstUseMs } : {}),
    });
  }

  disable(index: number): void {
    const user = this.require(index);
    this.#users.set(user.index, { ...user, enabled: false });
  }

  /** Rebuilds users through the same validator as `add` (a bad record throws). */
  restore(users: readonly User[], usage: readonly UserUsageEntry[]): void {
    for (const u of users) this.#users.set(u.index, buildUser(checkUserIndex(u.index, this.capacity), u));
    for (const { userIndex, usage: u } of usage) {
      const uses = safeInt(u.uses, "uses");
      const first = u.firstUseMs === undefined ? undefined : safeInt(u.firstUseMs, "firstUseMs");
      // Counters are a separate file: ignore usage of a user cleared just before a crash.
      if (this.#users.has(userIndex))
        this.#usage.set(userIndex, first === undefined ? { uses } : { uses, firstUseMs: first });
    }
  }

  #freeIndex(): UserIndex {
    for (let i = 1; i <= this.capacity; i++) if (!this.#users.has(i)) return i as UserIndex;
    throw new LatchkeyError("LOCK_CAPACITY", "no free user slot", { capacity: this.capacity });
  }
}

function safeInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} out of range`);
  return v;
}
