// Runs a state machine's ASL file locally (aws-local-stepfunctions), its Task states mapped to local functions.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import type { FanoutStarter } from '../functions/replication/large/image.ts';
import type { LargeImageInput } from '../functions/replication/large/types.ts';

/** The replicate-large state machine, as the CDK stack deploys it. */
export const REPLICATE_LARGE_ASL = fileURLToPath(new URL('../statemachines/replicate-large.asl.json', import.meta.url));

/** The replicate-deferred state machine (Wait for the rate budget, then replicate): the local stack re-schedules with its invoker instead. */
export const REPLICATE_DEFERRED_ASL = fileURLToPath(new URL('../statemachines/replicate-deferred.asl.json', import.meta.url));

/** A local Task implementation: the state's input in, its result out; a thrown error's `name` is what Retry/Catch match. */
export type LocalTaskHandler = (input: unknown) => Promise<unknown>;

export interface RunStateMachineOptions {
  /** Wait between retries, in ms, instead of the ASL's IntervalSeconds/backoff. @default the ASL's */
  readonly retryIntervalMs?: number;
  /** Every state entered, in order (Map iterations included). */
  readonly onStateEntered?: (state: string) => void;
  /** Changes the parsed definition before it runs (e.g. the local stand-in for `.waitForTaskToken`). */
  readonly transformDefinition?: (definition: { States: Record<string, unknown> }) => void;
  /** Every Wait state (Map iterations included) pauses this many ms instead of until its timestamp. @default the ASL's */
  readonly waitMs?: number;
}

/** A Wait state entered: its input says what it waits for (e.g. `$.copied.deferral.notBefore`). */
export interface LocalWait {
  readonly state: string;
  readonly input: unknown;
  /** Epoch ms the state was entered. */
  readonly enteredAt: number;
}

export interface LocalExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** The Fail state's (or the last uncaught) error name and cause. */
  readonly error?: string;
  readonly cause?: string;
  /** States entered, in order. */
  readonly states: string[];
  /** The Wait states entered, in order, with their input. */
  readonly waits: LocalWait[];
}

type JsonValue = Parameters<StateMachine['run']>[0];

/**
 * aws-local-stepfunctions 3 uses `Promise.withResolvers` (Node 22); Node 20 lacks it. Installed before
 * the library is imported (hence the dynamic import below).
 */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
  if (typeof P.withResolvers === 'function') return;
  P.withResolvers = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** `${LargeImagePlanFunctionArn}` → `LargeImagePlanFunctionArn`: the placeholder the CDK substitutes. */
function placeholderOf(resource: string): string | undefined {
  return /^\$\{([A-Za-z0-9_]+)\}$/.exec(resource)?.[1];
}

/** The names of every Wait state, nested in Map and Parallel too. */
function waitStates(states: Record<string, TaskState>, out: string[] = []): string[] {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Wait') out.push(name);
    for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (nested) waitStates(nested.States, out);
  }
  return out;
}

interface TaskState {
  readonly Type: string;
  readonly Resource?: string;
  readonly ItemProcessor?: { States: Record<string, TaskState> };
  readonly Iterator?: { States: Record<string, TaskState> };
  readonly Branches?: { States: Record<string, TaskState> }[];
}

/**
 * Every Task state (nested in Map and Parallel too) with its resource. Placeholders become fake
 * Lambda ARNs (the library validates ARNs), and the states are keyed by name for the library's
 * `taskResourceLocalHandlers`.
 */
function bindTasks(states: Record<string, TaskState>, handlers: Readonly<Record<string, LocalTaskHandler>>, bound: Record<string, LocalTaskHandler>): void {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task' && state.Resource !== undefined) {
      const key = placeholderOf(state.Resource) ?? state.Resource;
      const handler = handlers[key] ?? handlers[state.Resource];
      if (!handler) throw new Error(`Task state "${name}" (resource ${state.Resource}) has no local handler: pass one under "${key}"`);
      if (bound[name] && bound[name] !== handler) throw new Error(`two Task states are named "${name}" with different handlers`);
      bound[name] = handler;
      (state as { Resource: string }).Resource = `arn:aws:lambda:us-east-1:000000000000:function:${key}`;
    }
    for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (nested) bindTasks(nested.States, handlers, bound);
  }
}

/**
 * Runs the ASL file at `aslPath` on `input`, each Task state answered by `taskHandlers[<placeholder>]`
 * (e.g. `LargeImagePlanFunctionArn` for `"Resource": "${LargeImagePlanFunctionArn}"`) or by its
 * literal resource. Retry, Catch, Map and Fail behave as in Step Functions (within the library's
 * fidelity). Never throws for a failed execution: the result says FAILED with the error.
 *
 * @example
 * const result = await runStateMachine(REPLICATE_LARGE_ASL, input, {
 *   LargeImagePlanFunctionArn: plan, LargeImageCopyBlobFunctionArn: copyBlob, LargeImagePublishFunctionArn: publish, LargeImageRecordFunctionArn: record,
 * });
 */
export async function runStateMachine(
  aslPath: string,
  input: unknown,
  taskHandlers: Readonly<Record<string, LocalTaskHandler>>,
  options: RunStateMachineOptions = {},
): Promise<LocalExecutionResult> {
  polyfillWithResolvers();
  const { StateMachine: Engine, ExecutionError } = await import('aws-local-stepfunctions');
  const definition = JSON.parse(await readFile(aslPath, 'utf8')) as StateMachineDefinition & { States: Record<string, TaskState> };
  options.transformDefinition?.(definition);
  const bound: Record<string, LocalTaskHandler> = {};
  bindTasks(definition.States, taskHandlers, bound);
  const machine = new Engine(definition as StateMachineDefinition);
  const retryable: Record<string, number> = {};
  if (options.retryIntervalMs !== undefined) for (const name of Object.keys(bound)) retryable[name] = options.retryIntervalMs;
  const waitOverrides: Record<string, number> = {};
  if (options.waitMs !== undefined) for (const name of waitStates(definition.States)) waitOverrides[name] = options.waitMs;
  const execution = machine.run(input as JsonValue, {
    overrides: {
      taskResourceLocalHandlers: bound as Record<string, (input: JsonValue) => Promise<JsonValue>>,
      ...(options.retryIntervalMs !== undefined ? { retryIntervalOverrides: retryable } : {}),
      ...(options.waitMs !== undefined ? { waitTimeOverrides: waitOverrides } : {}),
    },
  });
  const states: string[] = [];
  const waits: LocalWait[] = [];
  const logs = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        const state = (event as { state?: { name?: string; type?: string; input?: unknown } }).state;
        const name = state?.name;
        if (name) {
          states.push(name);
          if (state.type === 'Wait') waits.push({ state: name, input: state.input, enteredAt: Date.now() });
          options.onStateEntered?.(name);
        }
      }
    }
  })();
  try {
    const output = await execution.result;
    await logs.catch(() => undefined);
    return { status: 'SUCCEEDED', output, states, waits };
  } catch (err) {
    await logs.catch(() => undefined);
    if (!(err instanceof ExecutionError)) throw err;
    const cause = (err as { cause?: { name?: string; message?: string } }).cause;
    return { status: 'FAILED', ...(cause?.name ? { error: cause.name } : {}), cause: cause?.message ?? err.message, states, waits };
  }
}

export interface LocalFanoutStarter extends FanoutStarter {
  /** The executions started, by name (a second start of a running or finished name returns it). */
  readonly executions: ReadonlyMap<string, Promise<LocalExecutionResult>>;
  /** Waits for an execution to finish. */
  wait(executionName: string): Promise<LocalExecutionResult>;
}

/**
 * The local stack's fan-out: runs the replicate-large ASL in this process, in the background.
 * Starting a name that already ran returns it (Step Functions' name idempotency); `restart: true`
 * in a later call is how a resume is done locally (`rerun`).
 *
 * @example
 * const fanout = createLocalFanoutStarter({ taskHandlers: { LargeImagePlanFunctionArn: plan, ... } });
 * const deps = { ...replicationDeps, fanout: { starter: fanout } };
 */
export function createLocalFanoutStarter(options: {
  readonly taskHandlers: Readonly<Record<string, LocalTaskHandler>>;
  readonly aslPath?: string;
  readonly retryIntervalMs?: number;
  /** Wait states pause this many ms instead of until their timestamp (a deferral for a rate budget). @default the ASL's */
  readonly waitMs?: number;
  /** Called when an execution ends (the local stack logs it). */
  readonly onFinished?: (name: string, result: LocalExecutionResult) => void;
}): LocalFanoutStarter & { rerun(input: LargeImageInput): Promise<LocalExecutionResult> } {
  const executions = new Map<string, Promise<LocalExecutionResult>>();
  const launch = (input: LargeImageInput): Promise<LocalExecutionResult> => {
    const run = runStateMachine(options.aslPath ?? REPLICATE_LARGE_ASL, input, options.taskHandlers, {
      ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    }).then((result) => {
      options.onFinished?.(input.executionName, result);
      return result;
    });
    executions.set(input.executionName, run);
    return run;
  };
  return {
    executions,
    async start(input) {
      if (!executions.has(input.executionName)) void launch(input).catch(() => undefined);
      return { executionName: input.executionName, executionArn: `arn:aws:states:local:000000000000:execution:regman-replicate-large:${input.executionName}` };
    },
    wait(name) {
      const run = executions.get(name);
      if (!run) return Promise.reject(new Error(`no local execution named "${name}"`));
      return run;
    },
    rerun: launch,
  };
}
