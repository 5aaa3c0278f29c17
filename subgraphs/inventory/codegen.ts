import { subgraphCodegen } from '@commerce/service-kit/codegen';

// Product is owned by products: here it is the id plus what the router hands over (@requires).
export default subgraphCodegen({ Product: '../models.ts#ProductRef' });
