import { runSubgraph } from '@commerce/service-kit';
import { orders } from './server.ts';

await runSubgraph(orders);
