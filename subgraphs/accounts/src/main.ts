import { runSubgraph } from '@commerce/service-kit';
import { accountsService } from './server.ts';

await runSubgraph(accountsService);
