import { runSubgraph } from '@commerce/service-kit';
import { products } from './server.ts';

await runSubgraph(products);
