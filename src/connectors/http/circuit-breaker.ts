/** The states of a circuit breaker (Nygard, "Release It!"). */
export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export interface CircuitBreakerOptions {
  /** Consecutive host failures that open the circuit. @default 5 */
  readonly failureThreshold?: number;
  /** How long the circuit stays open the first time. @default 30 000 ms */
  readonly openMs?: number;
  /** Each failed trial doubles the open time, up to this. @default 300 000 ms */
  readonly maxOpenMs?: number;
  readonly now?: () => number;
}

/** Whether a request may go to the host now, and if not, when to ask again. */
export type CircuitDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryInMs: number };

/**
 * Stops hammering a host that is down. Closed: every request passes and consecutive host failures are counted.
 * Open: nothing passes until the open time has elapsed. Half-open: exactly one trial request passes; its success
 * closes the circuit, its failure opens it again for twice as long.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #baseOpenMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openMs: number;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#baseOpenMs = options.openMs ?? 30_000;
    this.#maxOpenMs = options.maxOpenMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#openMs = this.#baseOpenMs;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#openMs) this.#state = 'half_open';
    return this.#state;
  }

  /** Asks to send one request. A granted half-open trial must be followed by {@link success} or {@link failure}. */
  tryPass(): CircuitDecision {
    const state = this.state;
    switch (state) {
      case 'closed':
        return { allowed: true };
      case 'open':
        return { allowed: false, retryInMs: this.#openedAt + this.#openMs - this.#now() };
      case 'half_open':
        if (this.#trialInFlight) return { allowed: false, retryInMs: Math.min(1000, this.#baseOpenMs) };
        this.#trialInFlight = true;
        return { allowed: true };
      default:
        return state satisfies never;
    }
  }

  /** The host answered (any answer that is not a host failure). */
  success(): void {
    this.#state = 'closed';
    this.#failures = 0;
    this.#openMs = this.#baseOpenMs;
    this.#trialInFlight = false;
  }

  /** The host failed (timeout, broken connection, 5xx). */
  failure(): void {
    if (this.#state === 'half_open' || this.#trialInFlight) {
      this.#trialInFlight = false;
      this.#openMs = Math.min(this.#maxOpenMs, this.#openMs * 2);
      this.#open();
      return;
    }
    this.#failures++;
    if (this.#state === 'closed' && this.#failures >= this.#threshold) this.#open();
  }

  /** Gives back a half-open trial that never reached the host (cancelled, or held back by the rate limiter). */
  release(): void {
    this.#trialInFlight = false;
  }

  #open(): void {
    this.#state = 'open';
    this.#openedAt = this.#now();
    this.#failures = 0;
  }
}

/** One {@link CircuitBreaker} per host, created on first use. Share one instance between the clients of a process. */
export class CircuitBreakers {
  readonly #options: CircuitBreakerOptions;
  readonly #byHost = new Map<string, CircuitBreaker>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.#options = options;
  }

  for(host: string): CircuitBreaker {
    let breaker = this.#byHost.get(host);
    if (breaker === undefined) this.#byHost.set(host, (breaker = new CircuitBreaker(this.#options)));
    return breaker;
  }

  /** Current state per host, for metrics and health checks. */
  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.#byHost].map(([host, b]) => [host, b.state]));
  }
}
