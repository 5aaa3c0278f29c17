import { subgraphCodegen } from '@commerce/service-kit/codegen';

// User and Product are owned elsewhere: here each is only its id.
export default subgraphCodegen({
  Review: './prisma/client.ts#Review as ReviewModel',
  User: '../models.ts#UserRef',
  Product: '../models.ts#ProductRef',
});
