import type { ApiRole, Principal } from './api-keys.ts';
import { roleAtLeast } from './api-keys.ts';
import { ApiError } from './errors.ts';

/**
 * What an item (a dead letter, a job run, a lease, an API key, a meter…) belongs to, per dimension a key can be
 * limited in: zones, and the meter groups (feeder, substation, portfolio) of the meter platform.
 *
 * How a key limited to groups relates to items that are not about any group: it does not see them. Dead letters,
 * job runs, leases, consumer lag and keys without groups name no group, so a group-limited key — a device's or a
 * portfolio's key — never sees them, whatever its zones (fail closed: meter data that cannot be attributed to a
 * group, such as a reading of an unknown meter, is not shown or taken either). Grid series are not items: they
 * are public market data read by zone (`allowZone` in permissions.ts checks zones only), so a group-limited key
 * reads the grid series of its zones (all zones when it is not limited in zones), as a utility's portfolio key is
 * expected to see the prices and carbon intensity its meters are billed against.
 */
export interface ItemScope {
  /** The zones the item is about; empty = platform-wide (not about any one zone). */
  readonly zones: readonly string[];
  /** The meter groups the item is about; absent or empty = not about any group (only keys without groups). */
  readonly groups?: readonly string[];
}

/** The dimensions a key can be limited in, and where a principal keeps its allow-list of each. */
export const SCOPE_DIMENSIONS = ['zones', 'groups'] as const satisfies readonly (keyof ItemScope)[];

/** A platform-wide item: only keys without limits see it. */
export const PLATFORM_WIDE: ItemScope = { zones: [], groups: [] };

/** The principal's allow-list of each dimension (`null` = not limited in it). */
function allowList(principal: Principal, dimension: (typeof SCOPE_DIMENSIONS)[number]): ReadonlySet<string> | null {
  const lists: Readonly<Record<(typeof SCOPE_DIMENSIONS)[number], ReadonlySet<string> | null>> = {
    zones: principal.zones,
    groups: principal.groups,
  };
  return lists[dimension];
}

/**
 * Whether `principal` may see or act on an item. For each dimension the key is limited in, the item must name at
 * least one value and every value it names must be allowed: an item about FI and SE_4 is not for a FI-only key, and
 * a platform-wide item (no zone: upstream rate limits, leases, consumer lag, readings without a zone) is only for
 * keys without limits. Fails closed: what cannot be attributed is not shown to a limited key.
 */
export function mayAccess(principal: Principal, item: ItemScope): boolean {
  for (const dimension of SCOPE_DIMENSIONS) {
    const allowed = allowList(principal, dimension);
    if (allowed === null) continue;
    const values = item[dimension] ?? [];
    if (values.length === 0 || !values.every((v) => allowed.has(v))) return false;
  }
  return true;
}

/** 403 unless {@link mayAccess}; `what` names the item in the problem (never its content). */
export function requireAccess(principal: Principal, item: ItemScope, what: string): void {
  if (!mayAccess(principal, item)) {
    const limits = [
      principal.zones === null ? '' : ` (the key is limited to zones ${[...principal.zones].join(', ')})`,
      principal.groups === null ? '' : ` (the key is limited to groups ${[...principal.groups].join(', ')})`,
    ].join('');
    throw new ApiError('api.forbidden', `the API key may not access ${what}${limits}`);
  }
}

/** The items `principal` may access (a list filtered, never refused). */
export function accessible<T>(principal: Principal, items: readonly T[], scopeOf: (item: T) => ItemScope): T[] {
  return items.filter((item) => mayAccess(principal, scopeOf(item)));
}

/**
 * What a key of `principal` may hand out: a new key is at most as limited as its creator — a role not above its
 * own, and in every dimension the creator is limited in, a non-empty subset of its allow-list (an unlimited key
 * cannot come from a limited one). 403 otherwise.
 */
export function requireGrantable(
  principal: Principal,
  wanted: {
    readonly role: ApiRole;
    readonly zones: readonly string[] | null;
    readonly groups?: readonly string[] | null;
  },
): void {
  if (!roleAtLeast(principal.role, wanted.role))
    throw new ApiError(
      'api.forbidden',
      `a key with role ${principal.role} cannot create a key with role ${wanted.role}`,
    );
  for (const dimension of SCOPE_DIMENSIONS) {
    const allowed = allowList(principal, dimension);
    if (allowed === null) continue;
    const asked = wanted[dimension] ?? null;
    if (asked === null || asked.length === 0)
      throw new ApiError(
        'api.forbidden',
        `a key limited to ${dimension} can only create keys limited to some of its ${dimension}`,
        { param: dimension },
      );
    const outside = asked.filter((v) => !allowed.has(v));
    if (outside.length > 0)
      throw new ApiError('api.forbidden', `the API key may not grant ${dimension} ${outside.join(', ')}`, {
        param: dimension,
      });
  }
}
