import { subgraphCodegen } from '@commerce/service-kit/codegen';

export default subgraphCodegen({ Product: './prisma/client.ts#Product as ProductModel' });
