export { multiplyDecimals, sumDecimals, roundHalfEven, costOf, emissionsOf, decimalOfFloat } from './money.ts';
export { biddingZoneOf } from './bidding-zone.ts';
export { settleRole, type SettleRoleDeps } from './settle-role.ts';

export {
  settleDays,
  requeueChangedInputs,
  lockSettling,
  hasInputChanges,
  type SettleDay,
  type SettleResult,
} from './settlement-store.ts';
