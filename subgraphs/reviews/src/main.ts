import { runSubgraph } from '@commerce/service-kit';
import { reviews } from './server.ts';

await runSubgraph(reviews);
