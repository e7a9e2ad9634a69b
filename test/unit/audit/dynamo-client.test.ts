// DynamoDB client options: endpoint and region from options or the environment, dummy credentials only for local endpoints.
import { describe, expect, it } from 'vitest';
import { createDynamoClients, dynamoOptionsFromEnv, isAwsError } from '../../../functions/dynamo/client.ts';

describe('dynamoOptionsFromEnv', () => {
  it('reads the local endpoint and the region', () => {
    expect(dynamoOptionsFromEnv({ REGMAN_DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567', AWS_REGION: 'eu-west-1' })).toEqual({
      endpoint: 'http://127.0.0.1:4567',
      region: 'eu-west-1',
    });
    expect(dynamoOptionsFromEnv({})).toEqual({});
  });
});

describe('createDynamoClients', () => {
  it('uses dummy credentials for a local endpoint, so no provider chain (and no metadata service) is consulted', async () => {
    // Act
    const clients = createDynamoClients({ endpoint: 'http://127.0.0.1:1', region: 'eu-central-1' });

    // Assess
    try {
      expect(await clients.client.config.region()).toBe('eu-central-1');
      expect(await clients.client.config.credentials()).toMatchObject({ accessKeyId: 'local', secretAccessKey: 'local' });
    } finally {
      clients.destroy();
    }
  });

  it('passes explicit credentials through', async () => {
    const clients = createDynamoClients({ endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, maxAttempts: 1 });
    try {
      expect(await clients.client.config.credentials()).toMatchObject({ accessKeyId: 'AK' });
      expect(await clients.client.config.maxAttempts()).toBe(1);
    } finally {
      clients.destroy();
    }
  });
});

describe('isAwsError', () => {
  it('matches by error name', () => {
    const err = Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' });
    expect(isAwsError(err, 'ConditionalCheckFailedException')).toBe(true);
    expect(isAwsError(err, 'ResourceInUseException')).toBe(false);
    expect(isAwsError('nope', 'ResourceInUseException')).toBe(false);
  });
});
