export { multiplyDecimals, sumDecimals, roundHalfEven, costOf, emissionsOf, decimalOfFloat } from './money.ts';
export { biddingZoneOf } from './bidding-zone.ts';
