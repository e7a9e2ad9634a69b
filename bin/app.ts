// The CDK app (cdk.json "app"): `cdk synth -c config=path` validates the config, then synthesizes; any config error fails synth.
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../functions/config/index.ts';
import { buildApp } from '../lib/app.ts';

const app = new App();
try {
  await buildApp(app);
} catch (err) {
  if (err instanceof ConfigError) {
    // The message lists every problem: file:line path: what is wrong (expected ...).
    console.error(err.message);
    console.error('Try: regman config validate <file>, fix the file, and synth again.');
    process.exit(1);
  }
  throw err;
}
app.synth();
