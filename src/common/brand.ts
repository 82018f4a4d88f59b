declare const brand: unique symbol;

/** A nominal type: `Brand<string, 'Eic'>` is a string that cannot be passed where a `ZoneCode` is expected. */
export type Brand<T, Name extends string> = T & { readonly [brand]: Name };
