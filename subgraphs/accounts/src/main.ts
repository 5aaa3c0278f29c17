import { runSubgraph } from '@commerce/service-kit';
import { accounts } from './server.ts';

await runSubgraph(accounts);
