import { subgraphCodegen } from '@commerce/service-kit/codegen';

export default subgraphCodegen({ User: './prisma/client.ts#User as UserModel' });
