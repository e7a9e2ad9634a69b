// Test helper run as a child process: starts the local stack with JSON options (argv[2]), prints `READY <endpoints JSON>` on stdout, logs on stderr.
// A test kills it (kill -9 of its process group: the stack and its registries) to simulate a crash.
import { startLocalStack, type StartLocalStackOptions } from '../../local/stack.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as StartLocalStackOptions;
const stack = await startLocalStack({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`READY ${JSON.stringify(stack.endpoints)}\n`);
process.once('SIGTERM', () => {
  void stack.stop().then(() => process.exit(0));
});
