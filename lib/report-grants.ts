// Read-only IAM for the console's report pages: registry listings and manifests of the configured registries, their credentials; no write.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ecrRepositoryArns, grantRegistryCredentials } from './config-grants.ts';
import { acknowledgeWildcardResources } from './nag.ts';
import type { ReportAccess } from './report-scopes.ts';

/**
 * What the reports read in ECR: the repositories (DescribeRepositories), the images and their tags (ListImages,
 * DescribeImages), manifests (BatchGetImage: the cost inventory's blobs, lineage's manifest and tag HEADs) and
 * lineage's config blob and small attestations (GetDownloadUrlForLayer). No push, no delete, no tag change.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull.html
 */
export const ECR_REPORT_READ_ACTIONS = ['ecr:DescribeRepositories', 'ecr:ListImages', 'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;

/**
 * Grants the console function the registry reads of the report pages: ECR_REPORT_READ_ACTIONS on `repository/*` of
 * each ECR registry the config names, the registry login token when one is reached with the function's own role,
 * the registries' secrets and roles exactly.
 *
 * @example
 * grantReportReadAccess(console.role, reportAccess(config));
 */
export function grantReportReadAccess(role: iam.IRole & IConstruct, access: ReportAccess): void {
  const arns = access.ecr.flatMap((s) => ecrRepositoryArns(Stack.of(role), s));
  if (arns.length > 0) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'EcrReadForReports', actions: [...ECR_REPORT_READ_ACTIONS], resources: arns }));
    acknowledgeWildcardResources(
      role,
      arns,
      'The cost, usage and lineage reports read every repository of each configured registry (`regman report costs` covers them all); ' +
        'DescribeRepositories without repository names is authorized against repository/*. Read actions only: no push, delete or tag change.',
    );
  }
  grantRegistryCredentials(role, { secrets: access.secrets, roles: access.roles, usesOwnEcrIdentity: access.ecr.length > 0 });
}
