import { runSubgraph } from '@commerce/service-kit';
import { inventory } from './server.ts';

await runSubgraph(inventory);
