import { readFileSync } from 'node:fs';
import { QualityError } from './errors.ts';
import { VeeRuleFileSchema, VeeRules } from './rules.ts';

/** The rules of a rule file (`GRIDSTREAM_VEE_RULES`), or the defaults without one; a bad file fails the start. */
export function loadVeeRules(path: string | null): VeeRules {
  if (path === null) return new VeeRules();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new QualityError('quality.rules_invalid', `cannot read the rule file ${path}: ${(error as Error).message}`);
  }
  const parsed = VeeRuleFileSchema.safeParse(json);
  if (!parsed.success)
    throw new QualityError(
      'quality.rules_invalid',
      `rule file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const rules = new VeeRules(parsed.data);
  return rules;
}
