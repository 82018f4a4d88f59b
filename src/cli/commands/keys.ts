import { API_ROLES, createApiKey, listApiKeys, revokeApiKey } from '../../api/index.ts';
import type { ApiRole } from '../../api/index.ts';
import { MeterGroupSchema } from '../../meters/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError, choiceOption, listOption, stringOption } from '../command.ts';
import { withDb } from '../data.ts';

export const keysCreateCommand: Command = {
  name: 'keys create',
  summary: 'Create an API key (printed once; stored only as a salted hash)',
  usage: 'keys create --role reader|operator|admin [--zones DE_LU,FR] [--groups g1,g2] [--name …] [--rate-limit n]',
  usesData: true,
  options: {
    role: { type: 'string', short: 'r' },
    zones: { type: 'string', short: 'z' },
    groups: { type: 'string', short: 'g' },
    name: { type: 'string' },
    'rate-limit': { type: 'string' },
  },
  run: (ctx, args) => {
    const role = choiceOption<ApiRole>(args, 'role', API_ROLES, 'reader');
    if (stringOption(args, 'role') === undefined) throw new UsageError('--role is required');
    const zones = listOption(args, 'zones') ?? null;
    const reference = loadReference();
    const unknown = (zones ?? []).filter((z) => !reference.hasZone(z));
    if (unknown.length > 0) throw new UsageError(`unknown zone(s): ${unknown.join(', ')}`);
    // A group limits meter data (readings, ingest) to the meters of those registry groups; see access-scope.ts.
    const groups = listOption(args, 'groups') ?? null;
    const badGroup = (groups ?? []).find((g) => !MeterGroupSchema.safeParse(g).success);
    if (badGroup !== undefined) throw new UsageError(`not a meter group: ${badGroup}`);
    if (groups?.length === 0) throw new UsageError('--groups needs at least one group');
    const limitText = stringOption(args, 'rate-limit');
    const rateLimitPerMinute = limitText === undefined ? null : Number(limitText);
    if (rateLimitPerMinute !== null && (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1))
      throw new UsageError('--rate-limit must be a positive whole number');
    return withDb(ctx, { migrate: true }, async (db) => {
      const { key, record } = await createApiKey(db, {
        name: stringOption(args, 'name') ?? `${role} key`,
        role,
        zones,
        groups,
        rateLimitPerMinute,
      });
      ctx.stdout.write(`${key}\n`);
      ctx.stderr.write(
        `created key ${record.id} (${record.role}${record.zones === null ? ', all zones' : `, zones ${record.zones.join(',')}`}${record.groups === null ? '' : `, groups ${record.groups.join(',')}`}); it is shown once\n`,
      );
      return EXIT.ok;
    });
  },
};

export const keysListCommand: Command = {
  name: 'keys list',
  summary: 'List API keys (never their secrets)',
  usage: 'keys list',
  usesData: true,
  run: (ctx) =>
    withDb(ctx, { migrate: true }, async (db) => {
      for (const k of await listApiKeys(db)) {
        ctx.stdout.write(
          `${k.id.padEnd(14)} ${k.role.padEnd(9)} ${(k.zones?.join(',') ?? '*').padEnd(20)} ${k.revokedAt === null ? 'active ' : 'revoked'} ${String(k.requestCount).padStart(8)} requests  ${k.name}${k.groups === null ? '' : `  (groups ${k.groups.join(',')})`}\n`,
        );
      }
      return EXIT.ok;
    }),
};

export const keysRevokeCommand: Command = {
  name: 'keys revoke',
  summary: 'Revoke an API key by id (effective on every API instance within seconds)',
  usage: 'keys revoke <id>',
  usesData: true,
  positionals: [1, 1],
  run: (ctx, args) =>
    withDb(ctx, { migrate: true }, async (db) => {
      const id = args.positionals[0] ?? '';
      if (!(await revokeApiKey(db, id))) {
        ctx.stderr.write(`no active key ${id}\n`);
        return EXIT.failure;
      }
      ctx.stderr.write(`revoked ${id}\n`);
      return EXIT.ok;
    }),
};
