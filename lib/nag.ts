// cdk-nag acknowledgements with their reasons, and the finding ids cdk-nag derives from resolved ARNs.
//
// cdk-nag 3 reads CDK's own `Validations.of(construct).acknowledge(...)` metadata (it replaced v2's
// NagSuppressions); a finding with detail is acknowledged as `RuleId[Finding]`, e.g.
// `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/team-a/*]`.
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges one cdk-nag rule (or one finding of it) on a construct and everything below it. */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges AwsSolutions-IAM5 (wildcard) for each resource ARN that contains `*`, with one reason. */
export function acknowledgeWildcardResources(scope: IConstruct, arns: readonly string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const arn of arns) {
    const flat = flattenCfnReference(stack.resolve(arn));
    if (flat.includes('*')) acknowledgeNag(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
  }
}

/**
 * A resolved CloudFormation value as cdk-nag prints it in finding ids: `Fn::Join` joined, `Ref` and
 * `Fn::GetAtt` in angle brackets (mirrors cdk-nag's utils/flatten-cfn-reference.ts, which is not exported).
 */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (node['Fn::Sub'] !== undefined) return flattenCfnReference(node['Fn::Sub']);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (node['Fn::ImportValue'] !== undefined) return flattenCfnReference(node['Fn::ImportValue']);
    if (node.Ref !== undefined) return `<${flattenCfnReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
