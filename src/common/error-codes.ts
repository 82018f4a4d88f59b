/**
 * The one registry of error and dead-letter reason codes. A code names its system (`kafka.timeout`,
 * `http.timeout`, `entsoe.banned`), because codes end up in metric labels, dead-letter reasons and API problems
 * where "timeout" alone says nothing. Every code any module throws or dead-letters is declared here (the error
 * classes take only these), with its default `retryable` and what it means; `docs/ERROR-CODES.md` is generated
 * from this table. `alias` is the name a code had before it was namespaced: dead letters already stored, filters
 * (`dlq list --filter reason=db_unavailable`) and dashboards keep working with it.
 */
interface CodeSpec {
  readonly retryable: boolean;
  readonly meaning: string;
  /** The code's name before codes were namespaced (accepted wherever a code is read). */
  readonly alias?: string;
}

const code = (retryable: boolean, meaning: string, alias?: string): CodeSpec =>
  alias === undefined ? { retryable, meaning } : { retryable, meaning, alias };

export const ERROR_CODES = {
  // Anything without a code of its own: a bug.
  'internal.error': code(
    false,
    'An error that carries no gridstream code: a bug; its message is kept.',
    'internal_error',
  ),
  'lock.held': code(false, 'A live process (or this one) holds a lock file of the data directory.'),

  'config.invalid': code(false, 'Environment variables with wrong values (all are named at once).', 'invalid_config'),

  // The event log: both implementations.
  'log.unknown_topic': code(false, 'The topic does not exist (topics are created explicitly).', 'unknown_topic'),
  'log.unknown_partition': code(false, "The partition is outside the topic's partitions.", 'unknown_partition'),
  'log.invalid_argument': code(
    false,
    'A topic name, partition count, offset or other argument is invalid.',
    'invalid_argument',
  ),
  'log.record_too_large': code(false, "A record is larger than the topic's maxMessageBytes.", 'record_too_large'),
  'log.not_owner': code(false, 'The consumer no longer owns the partition (a rebalance moved it).', 'not_owner'),
  'log.closed': code(false, 'The log or consumer was closed.', 'closed'),
  'log.aborted': code(false, 'The operation was cancelled through its signal.', 'aborted'),
  'log.invalid_message': code(false, "A value failed its topic's schema, or is not JSON or UTF-8.", 'invalid_message'),
  'log.dlq_loop': code(false, 'A processor whose dead letters would feed its own input.', 'dlq_loop'),
  'log.io_error': code(
    true,
    "Reading or writing the embedded log's files failed (a full disk may recover).",
    'io_error',
  ),
  'log.disk_full': code(
    true,
    'The device holding the embedded log is full (ENOSPC, or a quota): nothing was written; writes resume once there is space.',
  ),
  'log.corrupt': code(false, 'A file of the embedded log failed its integrity check (not a torn tail).', 'corrupt'),
  'log.locked': code(false, "Another live process owns the embedded log's directory.", 'locked'),
  'log.quarantine_pending': code(
    false,
    'Corrupt records of the embedded log were quarantined and await an operator (`gridstream log quarantine ack`); the process is not ready until then.',
  ),
  // Apache Kafka.
  'kafka.broker_unavailable': code(true, 'No Kafka broker could be reached.', 'broker_unavailable'),
  'kafka.timeout': code(true, 'The broker did not answer in time.', 'timeout'),
  'kafka.failure': code(true, 'The broker or client failed in a way with no better code.', 'log_failure'),
  'kafka.tls_failed': code(
    false,
    'TLS to a broker failed: its certificate is not trusted (KAFKA_TLS_CA_FILE) or does not name its host, or it does not speak TLS.',
  ),

  // The database (PostgreSQL or PGlite).
  'db.unavailable': code(
    true,
    'The database cannot be reached, is restarting, or is out of connections.',
    'db_unavailable',
  ),
  'db.disk_full': code(
    true,
    "The database's disk is full (SQLSTATE 53100, or ENOSPC from PGlite's files): the transaction was rolled back; writes resume once there is space.",
  ),
  'db.resources': code(true, 'The server is out of a resource (disk, memory) that may come back.', 'db_resources'),
  'db.conflict': code(true, 'A serialization failure, deadlock, lock or statement timeout.', 'db_conflict'),
  'db.rejected': code(false, 'The database refused the data: a constraint, a value out of range.', 'db_rejected'),
  'db.query_failed': code(
    false,
    'A statement the database could not run: a bug or a missing migration.',
    'db_query_failed',
  ),
  'db.closed': code(false, 'The database was closed before or while the operation ran.', 'db_closed'),
  'db.locked': code(false, 'Another live process holds the embedded database directory.', 'db_locked'),
  'db.error': code(false, 'Any other database error.', 'db_error'),
  'db.tls_failed': code(
    false,
    "TLS to PostgreSQL failed: the server's certificate is not trusted (`sslrootcert`) or does not name its host (`sslmode=verify-full`), or the server does not offer TLS.",
  ),
  'db.migration_invalid': code(
    false,
    'A migration changed after it was applied, or the files are out of sequence.',
    'migration_invalid',
  ),
  'db.partition_range_invalid': code(
    false,
    'A partition range that would create an unreasonable number of partitions.',
    'partition_range_invalid',
  ),
  'db.invalid_query': code(
    false,
    "A query's parameters are invalid (a time zone, a range): the caller's mistake.",
    'invalid_query',
  ),
  // Rows the store refuses (dead-letter reasons of dlq-storage).
  'store.invalid_key': code(
    false,
    "A chunk's key fields (zone, metric, type, counterpart, qualifier, source) are invalid.",
    'invalid_key',
  ),
  'store.unknown_unit': code(false, 'The unit is not one gridstream knows.', 'unknown_unit'),
  'store.invalid_slot': code(false, 'A slot that is not a UTC quarter hour.', 'invalid_slot'),
  'store.invalid_value': code(false, 'A value that is not a finite number.', 'invalid_value'),
  'store.constraint_violation': code(false, 'A row the database constraints refuse.', 'constraint_violation'),
  'store.value_out_of_range': code(false, 'A value outside what the column holds.', 'value_out_of_range'),
  'store.rejected_by_database': code(false, 'A row the database refused for another reason.', 'rejected_by_database'),

  // HTTP (the connectors' client side, and the servers' ports).
  'http.timeout': code(true, 'No complete answer within the attempt’s time limit.', 'timeout'),
  'http.network_error': code(true, 'Connection refused, reset or closed early; DNS failure.', 'network_error'),
  'http.truncated_body': code(true, 'The body ended before its announced length.', 'truncated_body'),
  'http.status': code(false, 'An HTTP status that is not a success (retryable for 5xx).', 'http_status'),
  'http.banned': code(true, 'The upstream refuses the credential for a while (429); waited out.', 'banned'),
  'http.circuit_open': code(true, 'The host failed repeatedly; requests are held back for a while.', 'circuit_open'),
  'http.body_too_large': code(false, 'A body larger than allowed.', 'body_too_large'),
  'http.aborted': code(false, 'The caller cancelled (never dead-lettered).', 'aborted'),
  'http.port_in_use': code(
    false,
    'A port gridstream should listen on is taken: the message names the variable to change.',
  ),

  // The ENTSO-E Transparency Platform.
  'entsoe.empty_body': code(false, 'An empty answer.', 'empty_body'),
  'entsoe.body_too_large': code(false, 'A document larger than gridstream reads.', 'body_too_large'),
  'entsoe.not_xml': code(false, 'The answer is not XML.', 'not_xml'),
  'entsoe.html_body': code(false, 'An HTML page instead of a document (a maintenance or error page).', 'html_body'),
  'entsoe.zip_body': code(false, 'A ZIP archive that cannot be read.', 'zip_body'),
  'entsoe.unsupported_encoding': code(false, 'A text encoding gridstream does not read.', 'unsupported_encoding'),
  'entsoe.malformed_xml': code(false, 'XML that does not parse.', 'malformed_xml'),
  'entsoe.doctype_refused': code(false, 'A DOCTYPE (refused: entity expansion attacks).', 'doctype_refused'),
  'entsoe.too_many_steps': code(
    false,
    'A document whose Periods expand to more steps (or quarter hours) than ENTSOE_MAX_STEPS_PER_DOCUMENT; refused before expanding.',
  ),
  'entsoe.http_error': code(false, 'An HTTP status the service should not answer (retryable for 5xx).', 'http_error'),
  'entsoe.unauthorized': code(false, 'The security token is refused.', 'unauthorized'),
  'entsoe.rate_limited': code(true, 'The service asks to slow down.', 'rate_limited'),
  'entsoe.banned': code(true, 'The token is banned for a while (429; 10 minutes unless the answer says).', 'banned'),
  'entsoe.timeout': code(true, 'No answer in time.', 'timeout'),
  'entsoe.network_error': code(true, 'The connection failed.', 'network_error'),
  'entsoe.circuit_open': code(true, 'The service failed repeatedly; requests are held back.', 'circuit_open'),
  'entsoe.invalid_request': code(
    false,
    'A request the service refuses (400: a bad parameter or too long a period).',
    'invalid_request',
  ),
  'entsoe.aborted': code(false, 'The fetch was cancelled.', 'aborted'),

  // The Electricity Maps API.
  'electricitymaps.unauthorized': code(false, 'The token is invalid or not entitled to the zone.', 'unauthorized'),
  'electricitymaps.rate_limited': code(true, "The plan's rate limit: the token is paused.", 'rate_limited'),
  'electricitymaps.http_error': code(false, 'Any other non-success status (5xx retryable).', 'http_error'),
  'electricitymaps.invalid_body': code(
    false,
    'A body that is not JSON or not a shape gridstream knows.',
    'invalid_body',
  ),
  'electricitymaps.no_token': code(false, 'No token is configured for the zone.', 'no_token'),
  'electricitymaps.invalid_tokens': code(false, 'The tokens file cannot be read.', 'invalid_tokens'),

  // Processing raw documents into observations (dead-letter reasons of dlq-processing).
  'processing.unmapped_area': code(false, 'An EIC area that maps to no zone.', 'unmapped_area'),
  'processing.unmapped_metric': code(
    false,
    'A document/process/business type combination that is no metric.',
    'unmapped_metric',
  ),
  'processing.unknown_unit': code(false, 'A unit of measure gridstream does not know.', 'unknown_unit'),
  'processing.unknown_production_type': code(
    false,
    'A PSR type code that is not in the code list.',
    'unknown_production_type',
  ),
  'processing.misaligned_step': code(false, 'A time step that does not fall on the 15-minute grid.', 'misaligned_step'),
  'processing.invalid_document': code(false, 'A document that does not follow its schema.', 'invalid_document'),
  'processing.invalid_value': code(false, 'A quantity that is not a number.', 'invalid_value'),
  'processing.missing_value': code(false, 'A point without a quantity.', 'missing_value'),
  'processing.invalid_position': code(false, 'A position that is not a positive integer.', 'invalid_position'),
  'processing.duplicate_position': code(false, 'The same position twice in a period.', 'duplicate_position'),
  'processing.position_out_of_range': code(false, "A position beyond the period's length.", 'position_out_of_range'),
  'processing.invalid_resolution': code(false, 'A resolution that cannot be read.', 'invalid_resolution'),
  'processing.invalid_interval': code(
    false,
    'A time interval that cannot be read or ends before it starts.',
    'invalid_interval',
  ),
  'processing.period_too_long': code(false, 'A period longer than gridstream expands.', 'period_too_long'),
  'processing.too_many_steps': code(
    false,
    'A whole document refused: its Periods expand to more steps (or quarter hours) than ENTSOE_MAX_STEPS_PER_DOCUMENT, or one series spans more quarter hours than that.',
  ),
  'processing.unsupported_curve_type': code(false, 'A curve type gridstream does not read.', 'unsupported_curve_type'),
  'processing.unsupported_document': code(false, 'A document type gridstream does not model.', 'unsupported_document'),

  // Dead-letter topics themselves.
  'dlq.invalid_envelope': code(
    false,
    'A record of a DLQ topic that is not a dead letter (shown, never replayed).',
    'invalid_envelope',
  ),

  // The shipped reference tables.
  'reference.unknown_area': code(false, 'An EIC code that is not in the table.', 'unknown_area'),
  'reference.unknown_zone': code(false, 'A zone code that is not in the table.', 'unknown_zone'),
  'reference.unknown_production_type': code(
    false,
    'A production type that is not in the table.',
    'unknown_production_type',
  ),
  'reference.no_emission_factor': code(false, 'No emission factor for a mode at a date.', 'no_emission_factor'),
  'reference.unknown_code': code(false, 'A code that is not in its code list.', 'unknown_code'),
  'reference.data_invalid': code(false, 'A shipped reference table that does not validate.', 'reference_data_invalid'),

  // The meter registry.
  'meters.invalid': code(false, 'A meter registry row with a missing or invalid field (named in the message).'),
  'meters.overlap': code(false, 'A validity of a meter that would overlap another validity of the same meter id.'),
  'meters.not_found': code(false, 'No registry row for that meter id (and start of validity).'),
  'meters.unknown_meter': code(
    false,
    'A smart-meter reading of a meter the registry does not know at its time (unknown-meter policy `dead-letter`); register the meter and replay the dead letter.',
  ),
  'meters.interval_mismatch': code(
    false,
    "An interval reading whose interval differs from its meter's registry interval.",
  ),
  'meters.misaligned': code(
    false,
    "An interval reading whose start is not on its meter's interval grid (UTC-aligned).",
  ),
  'meters.late': code(
    false,
    'A reading later than the allowed lateness after its local day was emitted (late policy `dead-letter`); replaying it later still dead-letters it unless the policy is `restate`.',
  ),
  'meters.unbounded_export': code(
    false,
    'A meter export (`gridstream export --meters`) without both --from and --to: meter data is personal data, so every export names the range it reads.',
  ),

  // Validation, estimation and editing of meter intervals (src/quality) and settlement (src/settlement).
  'quality.rules_invalid': code(
    false,
    'The validation rule file (`GRIDSTREAM_VEE_RULES`) cannot be read or does not validate (its fields are named).',
  ),
  'quality.edit_invalid': code(
    false,
    'An edit of an interval value that names no interval of the meter (off its grid, outside its validity) or has no reason.',
  ),

  // Alerts (src/alerts): the reason of every alert a detector raises, and the role's own errors.
  'alerts.meter_outage': code(
    false,
    'Many meters of one group went silent (past their declared delivery latency) or to zero in the same windows: a feeder or a data path is down.',
  ),
  'alerts.meter_reverse_flow': code(
    false,
    'An import-only meter measured energy flowing back (a negative import or an export reading): wiring, a sign error or an undeclared generator.',
  ),
  'alerts.meter_tamper': code(
    false,
    "A meter's consumption dropped to near zero for hours while the rest of its group consumed as usual: possible tampering (or a vacant home).",
  ),
  'alerts.meter_vee': code(false, 'A meter day failed validation rules (the rule ids and counts are in the evidence).'),
  'alerts.idle_source': code(
    false,
    'An expected series has not arrived by its usual publication delay plus a margin (the expected-publication model): the source is missing, not late as usual.',
  ),
  'alerts.forecast_deviation': code(
    false,
    "Actual load or generation left its day-ahead forecast by more than the series' own usual error (median ± k·MAD by hour of day).",
  ),
  'alerts.price_negative': code(false, 'A day-ahead price below zero.'),
  'alerts.price_extreme': code(false, 'A day-ahead price above the extreme threshold.'),
  'alerts.carbon_out_of_range': code(
    false,
    "Carbon intensity outside the zone's usual range (median ± k·MAD of its recent history).",
  ),
  'alerts.rules_invalid': code(
    false,
    'The alert rule file (`GRIDSTREAM_ALERT_RULES`) cannot be read or does not validate (its fields are named).',
  ),
  'alerts.webhook_failed': code(
    false,
    'A webhook delivery failed its last attempt (timeouts, refusals, non-2xx answers); the dead letter names the rule and the alert event.',
  ),
  'alerts.webhook_not_allowed': code(
    false,
    "A webhook URL whose origin is not on the admin's allowlist (no request is made to it).",
  ),

  // The event-time windowing engine (src/streams).
  'streams.invalid_argument': code(
    false,
    'A time, interval or range the windowing engine refuses (not finite, not positive, or ending before it starts).',
  ),
  'streams.invalid_time_zone': code(false, 'A time zone name the runtime does not know (IANA names only).'),
  'streams.too_many_windows': code(false, 'A range that would list more windows than the limit (100 000 by default).'),
  'streams.invalid_settings': code(false, "A stream job's settings that do not validate (each field named)."),

  // The scheduler.
  'scheduler.invalid_cron': code(false, 'A cron expression that cannot be read.', 'invalid_cron'),
  'scheduler.invalid_config': code(
    false,
    'Scheduler, job or backfill configuration that does not validate.',
    'invalid_config',
  ),
  'scheduler.unknown_job': code(false, 'A job name that is not configured.', 'unknown_job'),
  'scheduler.lease_lost': code(
    false,
    'The leader lease was lost while a job ran; the job was cancelled.',
    'lease_lost',
  ),
  'scheduler.no_replay_documents': code(
    false,
    'The offline replay found no documents to replay.',
    'no_replay_documents',
  ),
  'scheduler.replay_store_unavailable': code(
    true,
    'The offline replay cannot read or record what it published (the database); retried.',
    'replay_store_unavailable',
  ),

  // Start-up and supervision.
  'runtime.role_unavailable': code(false, 'A role this build or configuration cannot run.', 'role_unavailable'),
  'runtime.unknown_role': code(false, 'A role name that does not exist.', 'unknown_role'),
  'runtime.component_failed': code(false, 'A component failed; the process stops.', 'component_failed'),

  // Device input (dead-letter reasons of dlq-ingestion for readings).
  'ingest.not_json': code(false, 'A line that is not JSON.', 'not_json'),
  'ingest.invalid_reading': code(false, 'A JSON line that is not a reading.', 'invalid_message'),
  'ingest.too_large': code(false, 'A message larger than the limit (kept truncated in its dead letter).', 'too_large'),
  'ingest.overload': code(true, 'A QoS 0 message refused while the log is behind.', 'overload'),
  'ingest.invalid_text': code(false, 'A line that is not valid UTF-8 (refused, never repaired).'),
  'ingest.control_character': code(
    false,
    'A reading whose ids (device, kind, quantity, unit, group) hold control characters.',
  ),
  'ingest.number_out_of_range': code(
    false,
    'A reading with a number that is not finite or that underflows to 0 (e.g. 1e-400): it would be altered.',
  ),
  'ingest.timestamp_out_of_range': code(
    false,
    'A reading timed before the earliest accepted time (2000-01-01) or more than the allowed time after receipt.',
  ),
  'ingest.timestamp_without_offset': code(
    false,
    "A reading time without `Z` or an offset (it would be read in some server's zone, so it is refused).",
  ),
  'ingest.unmapped_quantity': code(
    false,
    'A reading whose quantity or unit has no canonical quantity (see the mapping table in the README).',
  ),
  'ingest.group_forbidden': code(
    false,
    "A reading of a meter outside the key's groups, or of a meter the registry does not know, under a key limited to groups.",
  ),
  'ingest.rejected_lines': code(false, 'A dead letter holding lines rejected for several reasons (each in `lines`).'),
  'ingest.body_too_large': code(false, 'A request body (or its decoded gzip) over the limit (413, not read further).'),
  'ingest.body_timeout': code(
    false,
    'A request body that did not arrive within 60 s (408): it held a slot of the gateway.',
  ),
  'ingest.unsupported_content_type': code(
    false,
    'A request body whose Content-Type is not NDJSON, a JSON array or CSV (415).',
  ),
  'ingest.unsupported_encoding': code(false, 'A Content-Encoding other than gzip or identity (415).'),
  'ingest.bad_encoding': code(false, 'A body that is not valid gzip although it says so (400).'),
  'mqtt.unavailable': code(true, 'The MQTT broker cannot be reached.', 'mqtt_unavailable'),
  'mqtt.subscription_refused': code(
    false,
    'The broker did not grant QoS 1 on the shared subscription.',
    'mqtt_subscription_refused',
  ),
  'mqtt.tls_failed': code(
    false,
    'TLS to the MQTT broker failed: its certificate is not trusted (GRIDSTREAM_MQTT_CA_FILE) or does not name its host.',
  ),

  // The HTTP API's answers (problem+json).
  'api.bad_request': code(false, 'A parameter or body the API refuses (400, naming it).', 'bad_request'),
  'api.range_too_large': code(false, 'A range of meter data longer than the API answers at once (400, naming it).'),
  'api.unauthorized': code(false, 'No key, or a key that is not valid (401).', 'unauthorized'),
  'api.forbidden': code(false, "The key's role or zones do not allow it (403).", 'forbidden'),
  'api.not_found': code(false, 'No such route, zone or record (404; an unknown zone names the closest).', 'not_found'),
  'api.rate_limited': code(true, "The key's requests per minute are spent (429, Retry-After).", 'rate_limited'),
  'api.conflict': code(false, 'The request conflicts with the current state (409).', 'conflict'),
  'api.unavailable': code(true, 'A dependency is down for now (503, Retry-After).', 'unavailable'),
  'api.internal_error': code(false, 'An unexpected failure (500, without internals).', 'internal_error'),
  'api.no_data': code(
    false,
    'A zone has no data for what was asked in the range, e.g. no carbon intensity of the basis for a best window (422, naming the zones).',
  ),
  'api.no_complete_window': code(
    false,
    'A zone has data in the range but no window of the duration without a missing slot (422, naming the zones).',
  ),
} as const satisfies Readonly<Record<string, CodeSpec>>;

/** Every error and dead-letter reason code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of some systems: `CodesOf<'log' | 'kafka'>`. */
export type CodesOf<System extends string> = Extract<ErrorCode, `${System}.${string}`>;

/** True for a code of the registry. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The registry's default `retryable` of a code (false for a string that is not a code). */
export function defaultRetryable(value: string): boolean {
  return isErrorCode(value) && ERROR_CODES[value].retryable;
}

/** The codes an old name stands for (`timeout` → kafka.timeout, http.timeout, entsoe.timeout). */
export function codesForAlias(alias: string): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].alias === alias);
}

/**
 * True when a stored code (possibly an old name) is what a filter asks for (a code or an old name): `db_unavailable`
 * and `db.unavailable` find each other, and `timeout` finds every kind of timeout.
 */
export function codeMatches(stored: string, wanted: string): boolean {
  if (stored === wanted) return true;
  const storedCodes = isErrorCode(stored) ? [stored] : codesForAlias(stored);
  const wantedCodes = isErrorCode(wanted) ? [wanted] : codesForAlias(wanted);
  return storedCodes.some((c) => wantedCodes.includes(c));
}

/** The registry as a Markdown table (docs/ERROR-CODES.md; a test keeps the file equal to it). */
export function errorCodesMarkdown(): string {
  const rows = (Object.entries(ERROR_CODES) as [ErrorCode, CodeSpec][]).map(
    ([c, spec]) =>
      `| \`${c}\` | ${spec.retryable ? 'yes' : 'no'} | ${spec.alias === undefined ? '' : `\`${spec.alias}\``} | ${spec.meaning} |`,
  );
  return ['| code | retryable | old name | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
