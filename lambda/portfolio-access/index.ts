import {
  AssociatePrincipalWithPortfolioCommand,
  DisassociatePrincipalFromPortfolioCommand,
  ListPortfoliosCommand,
  PortfolioDetail,
  ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { z } from 'zod';
import { respond, type ResourceResult } from '../shared/cfn-response';
import { createClient } from '../shared/clients';
import { AccountFactoryProductNotFound } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';

/**
 * Gives the factory's management role access to Control Tower's Account Factory
 * portfolio (a CloudFormation custom resource, run at deploy time in the Control Tower
 * management account and home region).
 *
 * Service Catalog shows a product (SearchProducts, ListLaunchPaths, ProvisionProduct) only
 * to principals associated with one of its portfolios: AFT associates its role the same
 * way (`associate_principal_with_portfolio`; AFT issue #33, "No launch paths found").
 * The portfolio is created by Control Tower, so it is found by name. On delete the
 * association is removed; the portfolio itself is never touched.
 */

const logger = createLogger('portfolio-access');
const clients = new Map<string, ServiceCatalogClient>();

function serviceCatalogIn(region: string): ServiceCatalogClient {
  let client = clients.get(region);
  if (!client) {
    client = createClient(ServiceCatalogClient, { region });
    clients.set(region, client);
  }
  return client;
}

const PropertiesSchema = z.object({
  PortfolioName: z.string().min(1),
  PrincipalArn: z.string().regex(/^arn:[\w-]+:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
  Region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'),
});

const EventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: PropertiesSchema,
});
type PortfolioAccessEvent = z.output<typeof EventSchema>;

export type PortfolioAccessResult = ResourceResult & { Data: { PortfolioId: string } };

/** Finds a portfolio of this account by its display name (every page). */
export async function findPortfolio(
  sc: ServiceCatalogClient,
  name: string,
): Promise<PortfolioDetail | undefined> {
  let token: string | undefined;
  do {
    const out = await sc.send(new ListPortfoliosCommand({ PageToken: token, PageSize: 20 }));
    const found = out.PortfolioDetails?.find((p) => p.DisplayName === name);
    if (found) return found;
    token = out.NextPageToken;
  } while (token);
  return undefined;
}

export async function portfolioAccess(
  sc: ServiceCatalogClient,
  event: PortfolioAccessEvent,
): Promise<PortfolioAccessResult> {
  const { PortfolioName, PrincipalArn } = event.ResourceProperties;
  if (event.RequestType === 'Delete') {
    const [portfolioId, principal] = (event.PhysicalResourceId ?? '').split('|');
    if (portfolioId && principal) {
      try {
        await sc.send(
          new DisassociatePrincipalFromPortfolioCommand({
            PortfolioId: portfolioId,
            PrincipalARN: principal,
          }),
        );
      } catch (err) {
        // Already gone (the portfolio or the association): nothing left to remove.
        if ((err as Error).name !== 'ResourceNotFoundException') throw err;
      }
    }
    return {
      PhysicalResourceId: event.PhysicalResourceId ?? 'none',
      Data: { PortfolioId: portfolioId ?? '' },
    };
  }
  const portfolio = await findPortfolio(sc, PortfolioName);
  if (!portfolio?.Id) {
    throw new AccountFactoryProductNotFound(
      `No Service Catalog portfolio named "${PortfolioName}" in this account and region: deploy this stack in the Control Tower management account and home region, where Control Tower created its Account Factory portfolio`,
    );
  }
  // AssociatePrincipalWithPortfolio is idempotent for the same principal.
  await sc.send(
    new AssociatePrincipalWithPortfolioCommand({
      PortfolioId: portfolio.Id,
      PrincipalARN: PrincipalArn,
      PrincipalType: 'IAM',
    }),
  );
  logger.info('principal associated with portfolio', { portfolioId: portfolio.Id, principal: PrincipalArn });
  return { PhysicalResourceId: `${portfolio.Id}|${PrincipalArn}`, Data: { PortfolioId: portfolio.Id } };
}

/** CloudFormation invokes it directly and waits for the answer at the event's ResponseURL. */
export async function handler(event: CloudFormationCustomResourceEvent, context?: Context): Promise<void> {
  beginInvocation(logger, event, context);
  try {
    const parsed = parseInput(EventSchema, event, 'Portfolio access');
    const result = await portfolioAccess(serviceCatalogIn(parsed.ResourceProperties.Region), parsed);
    await respond(event, 'SUCCESS', result);
  } catch (err) {
    logger.error('portfolio access failed', {
      requestType: event.RequestType,
      error: (err as Error).message,
    });
    await respond(event, 'FAILED', { Reason: `${(err as Error).name}: ${(err as Error).message}` });
  }
}
